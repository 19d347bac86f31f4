package e2e

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// nginx (deploy/nginx.conf) in front of two gateway instances: a tenant's
// traffic sticks to one instance, tenants spread over both, and sessions
// stream through the proxy. CI installs nginx (.ci/run); without it the
// test cannot run and says so.
func TestNginxTenantStickyRouting(t *testing.T) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		t.Skip("nginx is not installed (CI installs it): " + err.Error())
	}
	u := startUpstreams(t, 0)
	a := startGatewayOn(t, u, nil)
	b := startGatewayOn(t, u, nil)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	listen := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	tmpl, err := os.ReadFile(filepath.Join("..", "deploy", "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.NewReplacer("@PREFIX@", dir, "@LISTEN@", listen,
		"@SERVERS@", fmt.Sprintf("        server %s;\n        server %s;", a.addr, b.addr)).Replace(string(tmpl))
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", confPath, "-g", "daemon off; master_process off;")
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	proxy := &gateway{t: t, addr: listen}

	upstreamOf := func(tenant string) string {
		t.Helper()
		var resp *http.Response
		var err error
		for i := 0; i < 100; i++ { // nginx needs a moment to listen
			if resp, err = http.Get(proxy.url("/api/health?tenant=" + tenant)); err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("through nginx: %v\n%s", err, out.String())
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("through nginx: %d", resp.StatusCode)
		}
		return resp.Header.Get("X-Upstream")
	}
	seen := map[string]bool{}
	for i := 0; i < 24; i++ {
		tenant := fmt.Sprintf("tenant-%d", i)
		first := upstreamOf(tenant)
		for j := 0; j < 3; j++ {
			if again := upstreamOf(tenant); again != first {
				t.Fatalf("%s moved from %s to %s", tenant, first, again)
			}
		}
		seen[first] = true
	}
	if !seen[a.addr] || !seen[b.addr] {
		t.Fatalf("tenants did not spread over both instances: %v", seen)
	}

	// A session streams through the proxy over WebSocket, the socket naming
	// subprotocols as a browser that sends its token on the upgrade does:
	// nginx passes them on and the gateway's choice back (dev mode ignores
	// the token itself).
	c, resp, err := websocket.DefaultDialer.Dial("ws://"+listen+"/ws?tenant=dev",
		http.Header{"Sec-WebSocket-Protocol": {"diminuendo.v1.bearer.dev-token, diminuendo.v1"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != "diminuendo.v1" {
		t.Fatalf("through nginx the upgrade selected %q, want diminuendo.v1", got)
	}
	cl := &client{t: t, c: c}
	t.Cleanup(func() { _ = c.Close() })
	cl.expect("welcome")
	cl.expect("connected")
	cl.expect("authenticated")
	id := cl.createSession("echo")["id"].(string)
	cl.join(id, nil)
	cl.send(map[string]any{"type": "run_turn", "sessionId": id, "text": "through the proxy"})
	requireGapless(t, sequenced(cl.until("turn_complete")), 1)
}
