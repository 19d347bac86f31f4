// Package telemetry exports the gateway's counters as Prometheus metrics on
// /metrics. The core keeps plain atomics (app.Stats, ws.Stats); this adapter
// reads them at scrape time, so no metrics library sits on the hot path.
package telemetry

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	httpadapter "github.com/diminuendo/diminuendo/adapters/http"
	"github.com/diminuendo/diminuendo/adapters/ws"
	"github.com/diminuendo/diminuendo/app"
	"github.com/diminuendo/diminuendo/ports"
)

const ns = "diminuendo"

// Metrics owns the registry.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	errors   *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// New registers every metric of the gateway.
func New(hub *app.Hub, wss *ws.Server, checkers []ports.HealthChecker) *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	gauge := func(name, help string, f func() float64) {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: name, Help: help}, f))
	}
	counter := func(name, help string, c *atomic.Int64) {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: ns, Name: name, Help: help},
			func() float64 { return float64(c.Load()) }))
	}
	gauge("ws_connections", "Open WebSocket connections.", func() float64 { return float64(wss.Connections()) })
	gauge("active_sessions", "Sessions with a live agent stream on this instance.", func() float64 { return float64(hub.ActiveSessions()) })

	st := hub.Stats()
	counter("events_published_total", "Sequenced events that entered a session.", &st.EventsPublished)
	counter("frames_delivered_total", "Frames handed to attached connections.", &st.FramesDelivered)
	counter("subscribers_cut_total", "Attached connections detached because they could not take a frame.", &st.SubscribersCut)
	counter("activations_total", "Session activations attempted.", &st.Activations)
	counter("activations_failed_total", "Session activations that failed.", &st.ActivationsFailed)
	counter("generations_lost_total", "Agent runtimes lost mid-generation.", &st.GenerationsLost)
	counter("replays_window_total", "Resumes served from the replay window.", &st.ReplaysFromWindow)
	counter("replays_history_total", "Resumes that needed the agent runtime's history.", &st.ReplaysFromStore)
	counter("replays_refused_total", "Resumes answered replayComplete:false.", &st.ReplaysRefused)

	wst := wss.Stats()
	counter("ws_accepted_total", "WebSocket upgrades completed.", &wst.Accepted)
	counter("ws_messages_total", "Client messages read.", &wst.Messages)
	counter("ws_slow_consumers_total", "Connections cut off as slow consumers (4008).", &wst.SlowConsumers)
	for code, c := range wst.Errors {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: ns, Name: "ws_errors_total",
			Help: "Error frames sent, by code.", ConstLabels: prometheus.Labels{"code": code}},
			func() float64 { return float64(c.Load()) }))
	}
	for _, hc := range checkers {
		hc := hc
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: "upstream_up",
			Help: "1 when the upstream's last probe was ok, 0.5 degraded, 0 down.", ConstLabels: prometheus.Labels{"upstream": hc.Name()}},
			func() float64 {
				switch hc.Health().Status {
				case "ok":
					return 1
				case "degraded":
					return 0.5
				}
				return 0
			}))
	}

	m := &Metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "http_requests_total",
			Help: "REST requests by route and status."}, []string{"route", "method", "status"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "http_errors_total",
			Help: "REST error responses by route and wire code."}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "http_request_seconds",
			Help: "REST request latency by route.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}, []string{"route", "method"}),
	}
	reg.MustRegister(m.requests, m.errors, m.latency)
	return m
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Middleware counts REST requests by route pattern (never the raw path, so
// session ids do not become label values), and error responses by their
// wire code. Long-lived routes (the WebSocket and the event stream) are
// left out of the latency histogram.
func (m *Metrics) Middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			// Rendered here, so what is counted is what the client got:
			// the error's status and code, not the 200 an unwritten
			// response still holds.
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		method := methodLabel(c.Request().Method)
		m.requests.WithLabelValues(route, method, strconv.Itoa(c.Response().Status)).Inc()
		// The code comes from the closed ErrorCode set of the error body.
		if code := httpadapter.WireCode(c); code != "" {
			m.errors.WithLabelValues(route, method, code).Inc()
		}
		if route != "/ws" && route != "/api/sessions/:sessionId/events/stream" {
			m.latency.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
		}
		return nil
	}
}

// methodLabel maps a request method onto a closed set: any other method
// string would become a new series, kept for the life of the process.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}
