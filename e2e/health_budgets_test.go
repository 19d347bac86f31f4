package e2e

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/diminuendo/diminuendo/api"
	"github.com/diminuendo/diminuendo/app/config"
)

func fullHealth(t *testing.T, g *gateway) api.Health {
	t.Helper()
	resp, err := http.Get(g.url("/api/health"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h api.Health
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	return h
}

// /api/health shows every budget with its use and the instance's metrics,
// and turns degraded when a budget reaches 90%: with MAX_CONNECTIONS=5,
// four connections are ok, the fifth makes it degraded, and closing one
// brings it back.
func TestHealthDegradesNearABudget(t *testing.T) {
	g := startGateway(t, func(c *config.Config) { c.MaxConnections = 5 })
	var conns []*client
	for range 4 {
		conns = append(conns, g.dialDev(t))
	}
	id := conns[0].createSession("echo")["id"].(string)
	conns[0].join(id, nil)

	h := fullHealth(t, g)
	if h.Status != "ok" || h.Reasons != nil {
		t.Fatalf("4 of 5 connections: %s %v", h.Status, h.Reasons)
	}
	b := h.Budgets
	if b.Connections.Used != 4 || b.Connections.Limit != 5 || b.Connections.SetBy != "MAX_CONNECTIONS" ||
		b.ActiveSessions.Used != 1 || b.ActiveSessions.Limit != 5000 || b.ActiveSessions.SetBy != "MAX_ACTIVE_SESSIONS" ||
		b.Memory.Limit != 2<<30 || b.Memory.Used <= 0 || b.Memory.SetBy != "MEMORY_LIMIT" {
		t.Fatalf("budgets %+v", b)
	}
	in := h.Instance
	if in.Goroutines <= 0 || in.HeapBytes <= 0 || in.RssBytes <= 0 || in.ConnectionsByState["authenticated"] != 4 {
		t.Fatalf("instance %+v", in)
	}
	if n := in.SessionsByState["ready"] + in.SessionsByState["activating"]; n != 1 {
		t.Fatalf("sessions by state %v", in.SessionsByState)
	}
	for _, dep := range []string{"podium", "unison", "ensemble"} {
		d, ok := h.Dependencies[dep]
		if !ok || d.Breaker == nil || *d.Breaker != "closed" {
			t.Fatalf("dependency %s: %+v", dep, d)
		}
	}
	if _, ok := h.Dependencies["chronicle"]; ok {
		t.Fatal("chronicle reported although CHRONICLE_URL is unset")
	}

	fifth := g.dialDev(t)
	h = fullHealth(t, g)
	if h.Status != "degraded" || h.Reasons == nil || !strings.Contains(strings.Join(*h.Reasons, ";"), "connections at 100% of MAX_CONNECTIONS") {
		t.Fatalf("5 of 5 connections: %s %v", h.Status, h.Reasons)
	}
	if h.Budgets.Connections.Used != 5 || h.Budgets.Connections.Ratio != 1 {
		t.Fatalf("connections budget %+v", h.Budgets.Connections)
	}

	_ = fifth.c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for fullHealth(t, g).Status != "ok" {
		if time.Now().After(deadline) {
			t.Fatalf("still degraded after a connection closed: %+v", fullHealth(t, g))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// With CHRONICLE_URL set, health reports whether Chronicle can be reached.
func TestHealthReportsChronicleWhenConfigured(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	g := startGateway(t, func(c *config.Config) { c.ChronicleURL = "http://" + ln.Addr().String() })
	h := fullHealth(t, g)
	if d, ok := h.Dependencies["chronicle"]; !ok || d.Status != "ok" {
		t.Fatalf("chronicle: %+v (%v)", d, ok)
	}
}
