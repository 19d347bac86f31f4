package telemetry

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// MetricsServer serves /metrics on a listener of its own, so operators can
// keep it on an internal address while the gateway's port faces clients.
type MetricsServer struct {
	srv *http.Server
	ln  net.Listener
}

// ServeMetrics listens on addr synchronously (a taken port fails startup)
// and serves h at /metrics.
func ServeMetrics(addr string, h http.Handler, log *slog.Logger) (*MetricsServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	// A scrape is one small GET: every phase is bounded.
	m := &MetricsServer{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}, ln: ln}
	go func() {
		if err := m.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	return m, nil
}

// Addr is the bound address.
func (m *MetricsServer) Addr() string { return m.ln.Addr().String() }

// Stop closes the listener.
func (m *MetricsServer) Stop(ctx context.Context) error { return m.srv.Shutdown(ctx) }
