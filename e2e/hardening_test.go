package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/diminuendo/diminuendo/app/config"
)

// Outside dev mode with ALLOWED_ORIGINS set: a browser from another origin
// gets 403 before any upgrade, whatever its credentials; an allowed origin
// upgrades; CORS grants exactly the allowed origin.
func TestWebOriginAndCORS(t *testing.T) {
	const app = "https://app.example.com"
	g, p := startAuthGateway(t, func(c *config.Config) { c.AllowedOrigins = []string{app} })
	tok := mint(t, p, user{"alice", "acme", "developer"}.claims())

	for _, origin := range []string{"https://evil.example.com", "http://app.example.com", "https://app.example.com.evil.net", "null"} {
		h := bearer(tok)
		h.Set("Origin", origin)
		ws, resp, err := g.tryDialFrom("", "", h)
		if err == nil {
			_ = ws.Close()
			t.Fatalf("origin %s was upgraded", origin)
		}
		r := refusedBody(t, resp)
		if r.status != http.StatusForbidden || r.errCode() != "FORBIDDEN" {
			t.Errorf("origin %s: %d %s, want 403 FORBIDDEN", origin, r.status, r.body)
		}
		requireNoToken(t, "refused origin", string(r.body), tok)
	}
	h := bearer(tok)
	h.Set("Origin", app)
	ok := g.dialFrom(t, "", h)
	ok.expect("welcome")
	ok.expect("connected")
	ok.expect("authenticated")

	preflight := func(origin string) restResp {
		return g.restFrom(t, "", "OPTIONS", "/api/sessions", "", nil, http.Header{
			"Origin": {origin}, "Access-Control-Request-Method": {"POST"},
			"Access-Control-Request-Headers": {"authorization,content-type"},
		})
	}
	r := preflight(app)
	if r.status != http.StatusNoContent || r.header.Get("Access-Control-Allow-Origin") != app ||
		!strings.Contains(strings.ToLower(r.header.Get("Access-Control-Allow-Headers")), "authorization") ||
		!strings.Contains(r.header.Get("Access-Control-Allow-Methods"), "POST") {
		t.Errorf("preflight from %s: %d %v", app, r.status, r.header)
	}
	r = preflight("https://evil.example.com")
	if acao := r.header.Get("Access-Control-Allow-Origin"); acao != "" || r.header.Get("Access-Control-Allow-Methods") != "" {
		t.Errorf("preflight from a refused origin was granted: %d %v", r.status, r.header)
	}
	// Simple (non-preflight) requests: the grant names only the allowed origin.
	r = g.restFrom(t, "", "GET", "/api/me", tok, nil, http.Header{"Origin": {app}})
	if r.status != http.StatusOK || r.header.Get("Access-Control-Allow-Origin") != app {
		t.Errorf("GET from %s: %d %v", app, r.status, r.header)
	}
	r = g.restFrom(t, "", "GET", "/api/me", tok, nil, http.Header{"Origin": {"https://evil.example.com"}})
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("GET from a refused origin was granted: %v", r.header)
	}
}

// With ALLOWED_ORIGINS unset outside dev mode no origin is granted, by CORS
// or on /ws; clients that send no Origin (not browsers) are unaffected.
func TestWebNoOriginsConfiguredGrantsNone(t *testing.T) {
	g, p := startAuthGateway(t, nil)
	tok := mint(t, p, user{"alice", "acme", "developer"}.claims())
	r := g.restFrom(t, "", "OPTIONS", "/api/sessions", "", nil, http.Header{
		"Origin": {"https://anywhere.example.com"}, "Access-Control-Request-Method": {"POST"}})
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight granted with no ALLOWED_ORIGINS: %v", r.header)
	}
	h := bearer(tok)
	h.Set("Origin", "https://anywhere.example.com")
	if ws, resp, err := g.tryDialFrom("", "", h); err == nil {
		_ = ws.Close()
		t.Error("a browser origin was upgraded with no ALLOWED_ORIGINS")
	} else if rr := refusedBody(t, resp); rr.status != http.StatusForbidden {
		t.Errorf("browser origin with no ALLOWED_ORIGINS: %d %s", rr.status, rr.body)
	}
	g.dialWithToken(t, tok) // no Origin: a CLI or server client
}

// Security headers on every response, errors included; HSTS only when the
// request arrived over HTTPS (as a TLS-terminating proxy reports it).
func TestWebSecurityHeaders(t *testing.T) {
	g, p := startAuthGateway(t, nil)
	tok := mint(t, p, user{"alice", "acme", "developer"}.claims())
	for _, tc := range []struct {
		name  string
		token string
		path  string
	}{{"public", "", "/api/health"}, {"authenticated", tok, "/api/me"}, {"refused", "", "/api/me"}, {"not found", tok, "/api/nope"}} {
		r := g.rest(t, "GET", tc.path, tc.token, nil)
		if r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s (%d): security headers missing: %v", tc.name, r.status, r.header)
		}
		if r.header.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS over plain HTTP: %v", tc.name, r.header)
		}
		r = g.restFrom(t, "", "GET", tc.path, tc.token, nil, http.Header{"X-Forwarded-Proto": {"https"}})
		if !strings.HasPrefix(r.header.Get("Strict-Transport-Security"), "max-age=") {
			t.Errorf("%s: no HSTS behind HTTPS: %v", tc.name, r.header)
		}
	}
}

// A REST body over 1 MiB is refused with 413 MESSAGE_TOO_LARGE, whether
// Content-Length announces it or a chunked body runs over; a body of
// exactly 1 MiB reaches the handler.
func TestWebBodyLimit(t *testing.T) {
	g, p := startAuthGateway(t, nil)
	tok := mint(t, p, user{"alice", "acme", "developer"}.claims())
	pad := func(n int) []byte {
		b := []byte(`{"agentType":"echo","name":"`)
		b = append(b, bytes.Repeat([]byte("a"), n-len(b)-2)...)
		return append(b, '"', '}')
	}

	// Announced: refused from the header, before any of the body is sent
	// (sending it would race the server closing the connection).
	conn, err := net.DialTimeout("tcp", g.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "POST /api/sessions HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", g.addr, tok, 1<<20+1)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	r := restResp{status: resp.StatusCode, header: resp.Header, body: body}
	if r.status != http.StatusRequestEntityTooLarge || r.errCode() != "MESSAGE_TOO_LARGE" {
		t.Fatalf("Content-Length 1 MiB + 1: %d %s", r.status, r.body)
	}

	// Streamed without a length (a reader of unknown size is sent chunked):
	// cut off once past the limit.
	req, err := http.NewRequest("POST", g.url("/api/sessions"), io.MultiReader(bytes.NewReader(pad(1<<20+1))))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	hr, err := httpClient("").Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(hr.Body)
	hr.Body.Close()
	r = restResp{status: hr.StatusCode, header: hr.Header, body: body}
	if r.status != http.StatusRequestEntityTooLarge || r.errCode() != "MESSAGE_TOO_LARGE" {
		t.Fatalf("chunked 1 MiB + 1: %d %s", r.status, r.body)
	}

	// At the limit the request is read, and refused for its content.
	r = g.rest(t, "POST", "/api/sessions", tok, pad(1<<20))
	if r.status != http.StatusBadRequest || r.errCode() != "INVALID_MESSAGE" {
		t.Fatalf("1 MiB body: %d %s", r.status, r.body)
	}
	requireNoToken(t, "the gateway's log", g.logs.String(), tok)
}

// Dev mode bound to a non-loopback address is refused by config.Parse and,
// end to end, by the built binary, with one line naming the variable; with
// DEV_MODE_ALLOW_REMOTE=true it starts and warns loudly.
func TestDevModeRefusesRemoteBind(t *testing.T) {
	for _, host := range []string{"0.0.0.0", "::", "192.0.2.10"} {
		_, err := config.Parse([]string{"DEV_MODE=true", "HOST=" + host})
		if err == nil || !strings.Contains(err.Error(), "DEV_MODE_ALLOW_REMOTE") || strings.Contains(err.Error(), "\n") {
			t.Errorf("DEV_MODE=true HOST=%s: %v", host, err)
		}
	}
	if _, err := config.Parse([]string{"DEV_MODE=true", "HOST=0.0.0.0", "DEV_MODE_ALLOW_REMOTE=true"}); err != nil {
		t.Errorf("with the override: %v", err)
	}
	if _, err := config.Parse([]string{"DEV_MODE=true", "HOST=127.0.0.1"}); err != nil {
		t.Errorf("loopback dev mode: %v", err)
	}

	if testing.Short() {
		t.Skip("builds cmd/diminuendo")
	}
	bin := gatewayBinary(t)
	env := func(extra ...string) []string {
		// A clean environment: nothing inherited can change the outcome.
		return append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "DEV_MODE=true", "HOST=0.0.0.0", "PORT=0"}, extra...)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env, cmd.Dir = env(), t.TempDir() // no .env to read
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 0 {
		t.Fatalf("dev mode on 0.0.0.0 did not exit non-zero: %v\nstderr: %s", err, stderr.String())
	}
	line := strings.TrimRight(stderr.String(), "\n")
	if strings.Contains(line, "\n") || !strings.Contains(line, "DEV_MODE") || !strings.Contains(line, "DEV_MODE_ALLOW_REMOTE") {
		t.Fatalf("want one line naming the variable, got:\n%s", stderr.String())
	}
	if stdout.Len() != 0 {
		t.Fatalf("stdout: %s", stdout.String())
	}

	// With the override it starts, and says loudly what it is doing.
	cmd = exec.CommandContext(ctx, bin)
	cmd.Env, cmd.Dir = env("DEV_MODE_ALLOW_REMOTE=true"), t.TempDir()
	cmd.Cancel = func() error { return cmd.Process.Kill() }
	pipe, err := cmd.StdoutPipe() // the log
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	lines := make(chan string, 64)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var warned, listening bool
	var seen []string
	timeout := time.After(20 * time.Second)
	for !warned || !listening {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the gateway exited; stderr:\n%s", strings.Join(seen, "\n"))
			}
			seen = append(seen, l)
			warned = warned || strings.Contains(l, "level=WARN") && strings.Contains(l, "DEV_MODE_ALLOW_REMOTE") &&
				strings.Contains(l, "authentication is bypassed")
			listening = listening || strings.Contains(l, "diminuendo listening")
		case <-timeout:
			t.Fatalf("no warning and listening line within 20 s; stderr:\n%s", strings.Join(seen, "\n"))
		}
	}
}
