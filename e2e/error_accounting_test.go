package e2e

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/diminuendo/diminuendo/app/config"
)

// metricValue sums the samples of metric whose labels include every pair
// of want, in a /metrics scrape.
func metricValue(body, metric string, want map[string]string) float64 {
	var sum float64
	for _, l := range strings.Split(body, "\n") {
		if !strings.HasPrefix(l, metric+"{") {
			continue
		}
		end := strings.LastIndexByte(l, '}')
		if end < 0 {
			continue
		}
		labels := l[len(metric)+1 : end]
		ok := true
		for k, v := range want {
			if !strings.Contains(labels, k+`="`+v+`"`) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(l[end+1:]), 64); err == nil {
			sum += v
		}
	}
	return sum
}

func (g *gateway) scrapeMetrics(t *testing.T) string {
	t.Helper()
	resp, err := httpClient("").Get(g.url("/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d %s", resp.StatusCode, b)
	}
	return string(b)
}

// A refused REST request is counted with the status the client got and its
// wire code, whichever layer refused it: authentication (401), the
// per-identity rate limit (429), the request validator (400) or a handler
// (404). None of them is a 200.
func TestRESTErrorsCountedByStatusAndCode(t *testing.T) {
	g, p := startAuthGateway(t, func(c *config.Config) { c.RESTRateLimit, c.RESTRateWindow = 3, time.Minute })
	alice := mint(t, p, user{"u-alice", "acme", "developer"}.claims())
	bob := mint(t, p, user{"u-bob", "acme", "developer"}.claims())
	c := user{"u-carol", "acme", "developer"}.claims()
	c.Audience = "another-api"
	wrongAudience := mint(t, p, c)

	expect := func(r restResp, status int, code string) {
		t.Helper()
		if r.status != status || r.errCode() != code {
			t.Fatalf("want %d %s, got %d %s", status, code, r.status, r.body)
		}
	}
	expect(g.rest(t, "GET", "/api/sessions", "", nil), 401, "AUTH_REQUIRED")
	expect(g.rest(t, "GET", "/api/sessions", wrongAudience, nil), 401, "AUTH_FAILED")
	expect(g.rest(t, "POST", "/api/sessions", bob, map[string]any{"agentType": 7}), 400, "INVALID_MESSAGE")
	expect(g.rest(t, "GET", "/api/sessions/"+randomSessionID(), bob, nil), 404, "SESSION_NOT_FOUND")
	for i := 0; i < 3; i++ {
		if r := g.rest(t, "GET", "/api/sessions", alice, nil); r.status != 200 {
			t.Fatalf("request %d: %d %s", i+1, r.status, r.body)
		}
	}
	expect(g.rest(t, "GET", "/api/sessions", alice, nil), 429, "RATE_LIMITED")

	body := g.scrapeMetrics(t)
	for _, w := range []struct {
		metric string
		labels map[string]string
		n      float64
	}{
		{"diminuendo_http_requests_total", map[string]string{"route": "/api/sessions", "method": "GET", "status": "401"}, 2},
		{"diminuendo_http_requests_total", map[string]string{"route": "/api/sessions", "method": "GET", "status": "429"}, 1},
		{"diminuendo_http_requests_total", map[string]string{"route": "/api/sessions", "method": "GET", "status": "200"}, 3},
		{"diminuendo_http_requests_total", map[string]string{"route": "/api/sessions", "method": "POST", "status": "400"}, 1},
		{"diminuendo_http_requests_total", map[string]string{"route": "/api/sessions/:sessionId", "method": "GET", "status": "404"}, 1},
		{"diminuendo_http_errors_total", map[string]string{"route": "/api/sessions", "method": "GET", "code": "AUTH_REQUIRED"}, 1},
		{"diminuendo_http_errors_total", map[string]string{"route": "/api/sessions", "method": "GET", "code": "AUTH_FAILED"}, 1},
		{"diminuendo_http_errors_total", map[string]string{"route": "/api/sessions", "method": "GET", "code": "RATE_LIMITED"}, 1},
		{"diminuendo_http_errors_total", map[string]string{"route": "/api/sessions", "method": "POST", "code": "INVALID_MESSAGE"}, 1},
		{"diminuendo_http_errors_total", map[string]string{"route": "/api/sessions/:sessionId", "method": "GET", "code": "SESSION_NOT_FOUND"}, 1},
	} {
		if got := metricValue(body, w.metric, w.labels); got != w.n {
			t.Errorf("%s%v = %v, want %v", w.metric, w.labels, got, w.n)
		}
	}
	// Successes carry no error code.
	if got := metricValue(body, "diminuendo_http_errors_total", map[string]string{"route": "/api/sessions", "method": "GET", "code": ""}); got != 0 {
		t.Errorf("a success was counted as an error: %v", got)
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", grepLines(body, "diminuendo_http_"))
	}
}

// A refused authentication is logged at info, with the client's address
// and the reason the client was given, on both transports (a REST request
// with a bad token or none, a WebSocket upgrade with a bearer header, an
// authenticate message); the
// token never is (startAuthGateway checks every minted token against the
// whole log).
func TestFailedAuthenticationsAreLogged(t *testing.T) {
	g, p := startAuthGateway(t, nil)
	c := user{"u-mallory", "acme", "developer"}.claims()
	c.Audience = "another-api"
	bad := mint(t, p, c)

	r := g.rest(t, "GET", "/api/sessions", bad, nil)
	if r.status != 401 || r.errCode() != "AUTH_FAILED" {
		t.Fatalf("REST with a token for another audience: %d %s", r.status, r.body)
	}
	reason := r.errMessage()
	_, resp, err := g.tryDialFrom("", "", bearer(bad))
	if err == nil {
		t.Fatal("an upgrade with a bad bearer token was accepted")
	}
	if rr := refusedBody(t, resp); rr.status != 401 || rr.errCode() != "AUTH_FAILED" {
		t.Fatalf("upgrade: %d %s", rr.status, rr.body)
	}
	ws := g.dialFrom(t, "", nil)
	ws.expect("welcome")
	ws.expect("connected")
	if e := ws.authenticate(bad, "a1", "error"); e["code"] != "AUTH_FAILED" {
		t.Fatalf("authenticate: %v", e)
	}
	if r := g.rest(t, "GET", "/api/sessions", "", nil); r.status != 401 || r.errCode() != "AUTH_REQUIRED" {
		t.Fatalf("REST without a token: %d %s", r.status, r.body)
	}

	type line struct {
		Level, Msg, Transport, Client, Code, Reason string
	}
	var got []line
	sc := bufio.NewScanner(strings.NewReader(g.logs.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l line
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "authentication failed" {
			got = append(got, l)
		}
	}
	want := []line{
		{"INFO", "authentication failed", "rest", "127.0.0.1", "AUTH_FAILED", reason},
		{"INFO", "authentication failed", "ws", "127.0.0.1", "AUTH_FAILED", reason},
		{"INFO", "authentication failed", "ws", "127.0.0.1", "AUTH_FAILED", reason},
		{"INFO", "authentication failed", "rest", "127.0.0.1", "AUTH_REQUIRED", "a bearer token is required"},
	}
	if len(got) != len(want) {
		t.Fatalf("want %d failed authentications logged, got %d: %+v\nlog:\n%s", len(want), len(got), got, g.logs.String())
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if reason == "" {
		t.Fatal("the REST refusal carried no message")
	}
	requireNoToken(t, "the gateway's log", g.logs.String(), bad)
}
