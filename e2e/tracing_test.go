package e2e

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	httpadapter "github.com/diminuendo/diminuendo/adapters/http"
	"github.com/diminuendo/diminuendo/app/config"
	"github.com/diminuendo/diminuendo/app/root"
)

// With OTEL_EXPORTER_OTLP_ENDPOINT set, REST requests and WebSocket
// messages become spans exported over OTLP/HTTP (flushed at shutdown).
func TestTracingExportsSpans(t *testing.T) {
	var mu sync.Mutex
	var got bytes.Buffer
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got.Write(b)
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	defer collector.Close()

	cfg, err := config.Parse([]string{"DEV_MODE=true", "HOST=127.0.0.1", "PORT=0", "LOG_LEVEL=error", "SIM_STEP_DELAY=1ms",
		"OTEL_EXPORTER_OTLP_ENDPOINT=" + collector.URL, "OTEL_SERVICE_NAME=trace-test-gateway", "DATA_DIR=" + t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var srv *httpadapter.Server
	a := fxtest.New(t, root.Options(cfg), fx.Populate(&srv), fx.NopLogger)
	a.RequireStart()
	g := &gateway{t: t, addr: srv.Addr()}
	healthOf(t, g)
	c := g.dialDev(t)
	c.send(map[string]any{"type": "ping"})
	c.expect("pong")
	_ = c.c.Close()
	a.RequireStop()

	mu.Lock()
	defer mu.Unlock()
	for _, want := range []string{"trace-test-gateway", "ws.ping", "/api/health"} {
		if !bytes.Contains(got.Bytes(), []byte(want)) {
			t.Errorf("exported spans lack %q (%d bytes received)", want, got.Len())
		}
	}
}
