package e2e

import (
	"encoding/json"
	"net/http"
	"testing"
)

// A coding-agent turn writes a file; the four file messages read it back,
// and every write is a new iteration.
func TestWorkspaceFilesOverWebSocket(t *testing.T) {
	g := startGateway(t, nil)
	c := g.dialDev(t)
	id := c.createSession("coding-agent")["id"].(string)

	c.send(map[string]any{"type": "list_files", "sessionId": id, "requestId": "early"})
	if e := c.expect("error"); e["code"] != "NOT_FOUND" {
		t.Fatalf("files before any instance: %v", e)
	}
	c.join(id, nil)
	var path string
	for turn := 0; turn < 2; turn++ {
		c.send(map[string]any{"type": "run_turn", "sessionId": id, "text": "write it"})
		for _, e := range c.until("turn_complete") {
			if e["type"] == "tool_call" {
				path = e["input"].(map[string]any)["path"].(string)
			}
		}
	}
	if path == "" {
		t.Fatal("no file written")
	}

	c.send(map[string]any{"type": "list_files", "sessionId": id, "depth": 8, "requestId": "ls"})
	ls := c.expect("file_list")
	found := false
	for _, e := range ls["entries"].([]any) {
		found = found || e.(map[string]any)["path"] == path
	}
	if !found || ls["requestId"] != "ls" {
		t.Fatalf("%s not listed: %v", path, ls)
	}
	c.send(map[string]any{"type": "read_file", "sessionId": id, "path": path})
	latest := c.expect("file_content")
	if latest["iteration"] != 2.0 || latest["content"] == "" || latest["hash"] == "" || latest["encoding"] == "" {
		t.Fatalf("read_file: %v", latest)
	}
	c.send(map[string]any{"type": "file_history", "sessionId": id, "path": path})
	h := c.expect("file_history")
	if its := h["iterations"].([]any); len(its) != 2 {
		t.Fatalf("file_history: %v", h)
	}
	c.send(map[string]any{"type": "file_at_iteration", "sessionId": id, "path": path, "iteration": 1})
	first := c.expect("file_content")
	if first["iteration"] != 1.0 {
		t.Fatalf("file_at_iteration: %v", first)
	}

	// A leading slash means the workspace root, so "/etc/passwd" is just a
	// missing workspace file; escapes and control bytes are refused.
	for _, bad := range []string{"../../etc/passwd", "a/../../b", "a/\x00b", "C:\\x"} {
		c.send(map[string]any{"type": "read_file", "sessionId": id, "path": bad})
		if e := c.expect("error"); e["code"] != "INVALID_MESSAGE" {
			t.Fatalf("hostile path %q: %v", bad, e)
		}
	}
	c.send(map[string]any{"type": "read_file", "sessionId": id, "path": "no/such/file.txt"})
	if e := c.expect("error"); e["code"] != "NOT_FOUND" {
		t.Fatalf("missing file: %v", e)
	}
	c.sendInvalid(map[string]any{"type": "file_at_iteration", "sessionId": id, "path": path, "iteration": 0})
	if e := c.expect("error"); e["code"] != "INVALID_MESSAGE" {
		t.Fatalf("iteration 0: %v", e)
	}
}

// /api/health reports every upstream and /api/models serves Ensemble's catalog.
func TestHealthAndModels(t *testing.T) {
	g := startGateway(t, nil)
	resp, err := http.Get(g.url("/api/health"))
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Status       string                    `json:"status"`
		Dependencies map[string]map[string]any `json:"dependencies"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	for _, dep := range []string{"podium", "unison", "ensemble"} {
		if h.Dependencies[dep]["status"] != "ok" {
			t.Errorf("%s: %v", dep, h.Dependencies[dep])
		}
	}
	if h.Status != "ok" {
		t.Errorf("status %s", h.Status)
	}
	resp, err = http.Get(g.url("/api/models"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Models []map[string]any `json:"models"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&m)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(m.Models) == 0 || m.Models[0]["id"] == "" {
		t.Fatalf("models: %d %v", resp.StatusCode, m)
	}
}
