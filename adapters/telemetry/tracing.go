package telemetry

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

var propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// Tracing owns the tracer provider. With no endpoint it stays off: the
// global provider remains OpenTelemetry's no-op one, so every span call in
// the gateway costs next to nothing.
type Tracing struct {
	tp *sdktrace.TracerProvider
}

// NewTracing starts exporting spans over OTLP/HTTP to endpoint (e.g.
// https://otlp.example.com), or does nothing when endpoint is empty.
func NewTracing(endpoint, serviceName, version string) (*Tracing, error) {
	if endpoint == "" {
		return &Tracing{}, nil
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, err
	}
	opts := []otlptracehttp.Option{otlptracehttp.WithEndpoint(u.Host)}
	if u.Scheme == "http" {
		opts = append(opts, otlptracehttp.WithInsecure())
	}
	if p := strings.TrimRight(u.Path, "/"); p != "" {
		opts = append(opts, otlptracehttp.WithURLPath(p+"/v1/traces"))
	}
	exp, err := otlptracehttp.New(context.Background(), opts...)
	if err != nil {
		return nil, err
	}
	res := resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName(serviceName), semconv.ServiceVersion(version))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	// Also the process's global provider, for libraries that trace on their own.
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagator)
	return &Tracing{tp: tp}, nil
}

// Tracer returns a tracer of this provider (a no-op one when off).
func (t *Tracing) Tracer(name string) trace.Tracer {
	if t.tp == nil {
		return noop.NewTracerProvider().Tracer(name)
	}
	return t.tp.Tracer(name)
}

// Enabled reports whether spans are exported.
func (t *Tracing) Enabled() bool { return t.tp != nil }

// Shutdown flushes pending spans.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t.tp == nil {
		return nil
	}
	return t.tp.Shutdown(ctx)
}

// Handler wraps the gateway's HTTP handler with server spans. The WebSocket
// and metrics routes are left out: a connection-long span says nothing, and
// WebSocket messages get spans of their own.
func (t *Tracing) Handler(h http.Handler) http.Handler {
	if t.tp == nil {
		return h
	}
	return otelhttp.NewHandler(h, "diminuendo", otelhttp.WithTracerProvider(t.tp), otelhttp.WithPropagators(propagator), otelhttp.WithFilter(func(r *http.Request) bool {
		return r.URL.Path != "/ws" && r.URL.Path != "/metrics" && !strings.HasSuffix(r.URL.Path, "/events/stream")
	}))
}

// Transport wraps an upstream client transport with client spans and
// trace-context propagation, so Podium, Unison and Ensemble join the trace.
func (t *Tracing) Transport(rt http.RoundTripper) http.RoundTripper {
	if t.tp == nil {
		return rt
	}
	return otelhttp.NewTransport(rt, otelhttp.WithTracerProvider(t.tp), otelhttp.WithPropagators(propagator))
}
