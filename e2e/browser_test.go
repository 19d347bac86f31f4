package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// The browser client in a real headless Chromium, driven over the DevTools
// protocol: it creates a session, runs a coding-agent turn and renders it;
// after its socket is cut it reconnects, resumes by seq, and renders the
// next turn with nothing lost or shown twice. CI installs chromium
// (.ci/run); without it the test cannot run and says so.
func TestBrowserClient(t *testing.T) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (CI installs it): " + err.Error())
	}
	g := startGateway(t, nil)
	page := openPage(t, bin, g.url("/?demo=coding-agent:write%20hello"))

	logText := func() string { return page.eval(t, `(document.getElementById("log") || {innerText: ""}).innerText`) }
	waitFor := func(what string, ok func(string) bool) string {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			s := logText()
			if ok(s) {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("browser never showed %s; log:\n%s", what, s)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	first := waitFor("the first turn", func(s string) bool { return strings.Contains(s, "end_turn") })
	for _, want := range []string{"write hello", "▶ write_file", "✓ ", "in /"} {
		if !strings.Contains(first, want) {
			t.Fatalf("first turn lacks %q:\n%s", want, first)
		}
	}

	// Cut the socket; the page reconnects and resumes from its highest seq.
	page.eval(t, `state.ws.close(); "closed"`)
	waitFor("the reconnection", func(string) bool {
		return page.eval(t, `String(state.ws.readyState === WebSocket.OPEN && book(state.current).live)`) == "true"
	})
	page.eval(t, `document.getElementById("text").value = "once more"; document.getElementById("send").click(); "sent"`)
	second := waitFor("the second turn", func(s string) bool { return strings.Count(s, "end_turn") == 2 })
	lines := map[string]int{}
	for _, l := range strings.Split(second, "\n") {
		lines[strings.TrimSpace(l)]++
	}
	if lines["write hello"] != 1 || lines["once more"] != 1 {
		t.Fatalf("a turn was lost or shown twice after the resume:\n%s", second)
	}
}

type cdpPage struct {
	c  *websocket.Conn
	id int
}

// openPage starts headless Chromium and opens url in a fresh target.
func openPage(t *testing.T, bin, pageURL string) *cdpPage {
	t.Helper()
	profile, err := os.MkdirTemp("", "diminuendo-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--user-data-dir="+profile, "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "about:blank")
	// Its own process group: Chromium's renderer and helper processes go
	// down with it, before its profile folder is removed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		for i := 0; i < 50; i++ { // a helper may still be closing files
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	found := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`DevTools listening on (ws://\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				break
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	var browserWS string
	select {
	case browserWS = <-found:
	case <-time.After(20 * time.Second):
		t.Fatal("chromium did not start its DevTools endpoint")
	}
	u, _ := url.Parse(browserWS)
	req, _ := http.NewRequest(http.MethodPut, "http://"+u.Host+"/json/new?"+url.QueryEscape(pageURL), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var target struct {
		WebSocketDebuggerURL string `json:"webSocketDebuggerUrl"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&target); err != nil || target.WebSocketDebuggerURL == "" {
		t.Fatalf("new target: %v %+v", err, target)
	}
	c, _, err := websocket.DefaultDialer.Dial(target.WebSocketDebuggerURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &cdpPage{c: c}
}

// eval evaluates a JavaScript expression in the page and returns its value
// as a string.
func (p *cdpPage) eval(t *testing.T, expr string) string {
	t.Helper()
	p.id++
	id := p.id
	if err := p.c.WriteJSON(map[string]any{"id": id, "method": "Runtime.evaluate",
		"params": map[string]any{"expression": expr, "returnByValue": true}}); err != nil {
		t.Fatal(err)
	}
	_ = p.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for i := 0; i < 1000; i++ {
		var m struct {
			ID     int `json:"id"`
			Result struct {
				Result struct {
					Value any `json:"value"`
				} `json:"result"`
				ExceptionDetails any `json:"exceptionDetails"`
			} `json:"result"`
		}
		if err := p.c.ReadJSON(&m); err != nil {
			t.Fatalf("devtools: %v", err)
		}
		if m.ID != id {
			continue // an event, or a stale reply
		}
		if m.Result.ExceptionDetails != nil {
			t.Fatalf("evaluating %q: %v", expr, m.Result.ExceptionDetails)
		}
		return fmt.Sprint(m.Result.Result.Value)
	}
	t.Fatal("no devtools reply")
	return ""
}
