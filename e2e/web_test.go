package e2e

import (
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// In dev mode the gateway serves the browser client; its script is valid
// JavaScript (checked with node when the machine has it, as CI machines do).
func TestWebClientServedInDevMode(t *testing.T) {
	g := startGateway(t, nil)
	for path, want := range map[string]string{"/": "<title>Diminuendo</title>", "/app.js": "join_session"} {
		resp, err := http.Get(g.url(path))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Fatalf("%s: %d, %d bytes", path, resp.StatusCode, len(body))
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("%s without security headers", path)
		}
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Log("node not found: the script's syntax is not checked")
		return
	}
	if out, err := exec.Command(node, "--check", filepath.Join("..", "web", "app.js")).CombinedOutput(); err != nil {
		t.Fatalf("web/app.js: %v\n%s", err, out)
	}
}
