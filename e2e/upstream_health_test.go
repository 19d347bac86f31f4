package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/diminuendo/diminuendo/adapters/podium/podiumsim"
	"github.com/diminuendo/diminuendo/adapters/telemetry"
	"github.com/diminuendo/diminuendo/adapters/unison/unisonsim"
	"github.com/diminuendo/diminuendo/app/config"
)

func healthOf(t *testing.T, g *gateway) (string, map[string]map[string]any) {
	t.Helper()
	resp, err := http.Get(g.url("/api/health"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h struct {
		Status       string                    `json:"status"`
		Dependencies map[string]map[string]any `json:"dependencies"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	return h.Status, h.Dependencies
}

// A dependency that goes down turns /api/health degraded within one probe
// interval, and back to ok once it returns.
func TestHealthDegradesWithinOneProbeInterval(t *testing.T) {
	const interval = 300 * time.Millisecond
	u := startUpstreams(t, 0)
	g := startGatewayOn(t, u, func(cfg *config.Config) { cfg.ProbeInterval = interval })
	if st, deps := healthOf(t, g); st != "ok" || deps["podium"]["status"] != "ok" {
		t.Fatalf("before: %s %v", st, deps)
	}
	u.killPodium()
	down := time.Now()
	var st string
	var deps map[string]map[string]any
	for time.Since(down) < 2*interval+time.Second {
		if st, deps = healthOf(t, g); st == "degraded" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st != "degraded" || deps["podium"]["status"] == "ok" || deps["unison"]["status"] != "ok" {
		t.Fatalf("after podium went down: %s %v", st, deps)
	}
	// One interval, plus the probe's own timeout on a refused connection.
	if waited := time.Since(down); waited > interval+500*time.Millisecond {
		t.Fatalf("degraded after %v, probe interval %v", waited, interval)
	}
	u.restartPodium()
	back := time.Now()
	for time.Since(back) < 2*interval+time.Second {
		if st, _ = healthOf(t, g); st == "ok" {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("not ok again after podium returned: %s", st)
}

// ENSEMBLE_API_KEY reaches each new agent instance sealed with
// PODIUM_SECRETS_KEY; the simulator opens it with the same key.
func TestAgentSecretsForwardedSealed(t *testing.T) {
	psim := podiumsim.New(podiumsim.Options{SecretsKey: "a shared sealing key"})
	purl, err := psim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	usim := unisonsim.New(unisonsim.Options{})
	uurl, err := usim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { psim.Close(); usim.Close() })
	g := startGateway(t, func(cfg *config.Config) {
		cfg.PodiumURL, cfg.UnisonURL = purl, uurl
		cfg.PodiumSecretsKey, cfg.EnsembleAPIKey = "a shared sealing key", "ens_test_key"
	})
	c := g.dialDev(t)
	id := c.createSession("echo")["id"].(string)
	c.join(id, nil)

	resp, err := http.Get(uurl + "/api/v1/kv/" + url.PathEscape("tenant:dev/sessions") + "/" + id)
	if err != nil {
		t.Fatal(err)
	}
	var entry struct {
		Value struct {
			Generations []struct {
				InstanceID string `json:"instanceId"`
			} `json:"generations"`
		} `json:"value"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&entry)
	resp.Body.Close()
	if len(entry.Value.Generations) != 1 {
		t.Fatalf("session record: %+v", entry)
	}
	secrets, err := psim.Secrets(entry.Value.Generations[0].InstanceID)
	if err != nil || secrets["ensemble_api_key"] != "ens_test_key" {
		t.Fatalf("secrets at podium: %v %v", secrets, err)
	}
	if _, err := config.Parse([]string{"DEV_MODE=true", "HOST=127.0.0.1", "ENSEMBLE_API_KEY=ens_x"}); err == nil {
		t.Fatal("a secret to forward without PODIUM_SECRETS_KEY must stop startup")
	}
}

// The heartbeat event arrives at the configured interval on an idle socket.
func TestHeartbeat(t *testing.T) {
	g := startGateway(t, func(cfg *config.Config) { cfg.HeartbeatInterval = 100 * time.Millisecond })
	c := g.dialDev(t)
	for i := 0; i < 2; i++ {
		m, err := c.read(2 * time.Second)
		if err != nil || m["type"] != "heartbeat" || m["ts"] == nil {
			t.Fatalf("heartbeat %d: %v %v", i, m, err)
		}
	}
}

// /metrics exports the hub's and the transport's counters.
func TestMetrics(t *testing.T) {
	g := startGateway(t, nil)
	c := g.dialDev(t)
	id := c.createSession("echo")["id"].(string)
	c.join(id, nil)
	c.send(map[string]any{"type": "run_turn", "sessionId": id, "text": "count me"})
	c.until("turn_complete")
	c.sendInvalid(map[string]any{"type": "nope"})
	c.expect("error")
	healthOf(t, g)
	resp, err := http.Get(g.url("/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		"diminuendo_ws_connections 1", "diminuendo_active_sessions 1", `diminuendo_ws_errors_total{code="INVALID_MESSAGE"} 1`,
		`diminuendo_upstream_up{upstream="podium"} 1`, "diminuendo_events_published_total", `diminuendo_http_requests_total{method="GET",route="/api/health",status="200"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(string(body), id) {
		t.Error("a session id leaked into metric labels")
	}
}

// With METRICS_ADDR, /metrics moves to its own listener and leaves the
// client-facing port.
func TestMetricsOnTheirOwnListener(t *testing.T) {
	var ms *telemetry.MetricsServer
	g := startGateway(t, func(cfg *config.Config) { cfg.MetricsAddr = "127.0.0.1:0" }, fx.Populate(&ms))
	resp, err := http.Get("http://" + ms.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "diminuendo_ws_connections") {
		t.Fatalf("metrics listener: %d", resp.StatusCode)
	}
	resp, err = http.Get(g.url("/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("/metrics still on the client port: %d", resp.StatusCode)
	}
}

// Heartbeats are spread over the interval, not written to every socket in
// the same instant: a burst of writes to every connection at once would
// hold up the events streaming to them.
func TestHeartbeatsAreSpreadOverTheInterval(t *testing.T) {
	g := startGateway(t, func(cfg *config.Config) { cfg.HeartbeatInterval = 800 * time.Millisecond })
	const n = 32
	clients := make([]*client, n)
	for i := range clients {
		clients[i] = g.dialDev(t)
	}
	first := make([]time.Time, n)
	done := make(chan error, n)
	for i, c := range clients {
		go func() {
			m, err := c.read(3 * time.Second)
			if err == nil && m["type"] != "heartbeat" {
				err = fmt.Errorf("got %v", m)
			}
			first[i] = time.Now()
			done <- err
		}()
	}
	for range clients {
		if err := <-done; err != nil {
			t.Fatalf("first heartbeat: %v", err)
		}
	}
	lo, hi := first[0], first[0]
	for _, at := range first {
		if at.Before(lo) {
			lo = at
		}
		if at.After(hi) {
			hi = at
		}
	}
	if spread := hi.Sub(lo); spread < 300*time.Millisecond {
		t.Fatalf("the first heartbeats of %d connections arrived within %v of each other; want them spread over the 800ms interval", n, spread)
	}
}
