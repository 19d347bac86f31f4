package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// DATA_DIR holds operational artifacts only. A gateway process run against
// a separate fabric-sim writes JSON logs (the start line, one line per
// closed WebSocket, the drain, the exit), redacted frame dumps when
// DEBUG_DUMP asks for them, and its caches, and writes nowhere else. A
// restart with Ensemble and Podium unreachable still lists the models and
// agent types from the caches. With DATA_DIR deleted, a third gateway
// serves the session and every event of its turn: nothing a user needs
// was in it.
func TestDataDirHoldsOnlyOperationalArtifacts(t *testing.T) {
	up := startFabricSim(t, time.Millisecond)
	data := filepath.Join(t.TempDir(), "data")
	home, tmp := t.TempDir(), t.TempDir()
	sandbox := []string{"DATA_DIR=" + data, "HOME=" + home, "TMPDIR=" + tmp}

	first := startProcess(t, up, append(sandbox, "DEBUG_DUMP=podium,ws")...)
	c := first.dialDev(t)
	id := c.createSession("coding-agent")["id"].(string)
	c.join(id, nil)
	c.send(map[string]any{"type": "run_turn", "sessionId": id, "text": "leave evidence"})
	var got held
	c.readUntilType(&got, "turn_complete", 10*time.Second)
	// A token sent by a client must not reach the dump.
	const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJtYWxsb3J5In0.c2VjcmV0LXNpZ25hdHVyZQ"
	c.send(map[string]any{"type": "authenticate", "token": jwt})
	_, events := first.dialDev(t).getEvents(id)
	models := first.rest(t, "GET", "/api/models", "", nil)
	types := first.rest(t, "GET", "/api/agent-types", "", nil)
	if models.status != 200 || types.status != 200 || !bytes.Contains(types.body, []byte("coding-agent")) {
		t.Fatalf("models %d %s, agent types %d %s", models.status, models.body, types.status, types.body)
	}
	if code := first.terminateCode(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}

	// The log file: JSON records an operator can follow.
	recs := jsonLines(t, filepath.Join(data, "logs", "diminuendo.log"))
	start := findRecord(recs, "diminuendo listening")
	if start == nil || start["version"] == "" || start["mode"] != "dev" || start["podium"] == "" || start["ensemble"] == "" {
		t.Fatalf("start line: %v", start)
	}
	closed := findRecord(recs, "websocket closed")
	if closed == nil || closed["user"] == nil || closed["tenant"] == nil || closed["closeCode"] == nil ||
		closed["durationMs"] == nil || closed["messagesIn"].(float64) < 1 || closed["messagesOut"].(float64) < 1 {
		t.Fatalf("websocket close line: %v", closed)
	}
	if findRecord(recs, "draining") == nil || findRecord(recs, "diminuendo exited") == nil {
		t.Fatalf("no drain or exit line in %d records", len(recs))
	}
	// The dumps: both channels, with the token gone.
	for _, ch := range []string{"ws", "podium"} {
		b, err := os.ReadFile(filepath.Join(data, "debug", ch+".jsonl"))
		if err != nil || len(b) == 0 {
			t.Fatalf("%s dump: %v (%d bytes)", ch, err, len(b))
		}
		if strings.Contains(string(b), jwt) {
			t.Fatalf("the %s dump holds the token", ch)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(data, "debug", "ws.jsonl")); !strings.Contains(string(b), "[REDACTED]") {
		t.Fatal("the ws dump shows no redaction of the authenticate frame")
	}
	for _, name := range []string{"model-catalog", "agent-types"} {
		if _, err := os.Stat(filepath.Join(data, "cache", name+".json")); err != nil {
			t.Fatalf("cache %s: %v", name, err)
		}
	}
	// Nothing outside DATA_DIR: not the working folder, HOME or TMPDIR.
	for _, dir := range []string{first.cmd.Dir, home, tmp} {
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Fatalf("the gateway wrote outside DATA_DIR, in %s: %v", dir, left)
		}
	}

	// Ensemble and Podium unreachable: the caches keep the lists warm.
	dead := deadURL(t)
	second := startProcess(t, up, append(sandbox, "ENSEMBLE_URL="+dead, "PODIUM_URL="+dead)...)
	if m := second.rest(t, "GET", "/api/models", "", nil); m.status != 200 || !bytes.Equal(m.body, models.body) {
		t.Fatalf("models with Ensemble down: %d %s, want %s", m.status, m.body, models.body)
	}
	if a := second.rest(t, "GET", "/api/agent-types", "", nil); a.status != 200 || !bytes.Equal(a.body, types.body) {
		t.Fatalf("agent types with Podium down: %d %s, want %s", a.status, a.body, types.body)
	}
	if code := second.terminateCode(); code != 0 {
		t.Fatalf("exit code %d", code)
	}

	// DATA_DIR deleted: the session and its events are all still there.
	if err := os.RemoveAll(data); err != nil {
		t.Fatal(err)
	}
	third := startProcess(t, up, sandbox...)
	if list := third.rest(t, "GET", "/api/sessions", "", nil); !bytes.Contains(list.body, []byte(id)) {
		t.Fatalf("session %s missing after DATA_DIR was deleted: %s", id, list.body)
	}
	_, again := third.dialDev(t).getEvents(id)
	requireSameEvents(t, events, again)
	if len(again) == 0 {
		t.Fatal("no events")
	}
	if _, err := os.Stat(filepath.Join(data, "debug", "ws.jsonl")); !os.IsNotExist(err) {
		t.Fatalf("a dump was written without DEBUG_DUMP: %v", err)
	}
}

func jsonLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: not a JSON line: %q", path, sc.Text())
		}
		out = append(out, m)
	}
	return out
}

func findRecord(recs []map[string]any, msg string) map[string]any {
	for _, r := range recs {
		if r["msg"] == msg {
			return r
		}
	}
	return nil
}

// deadURL is a loopback address nothing listens on.
func deadURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return "http://" + addr
}
