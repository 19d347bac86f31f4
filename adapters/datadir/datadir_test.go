package datadir_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/diminuendo/diminuendo/adapters/datadir"
)

func TestOpenMakesTheFolders(t *testing.T) {
	d, err := datadir.Open(filepath.Join(t.TempDir(), "a", "b"))
	if err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"logs", "cache", "debug"} {
		if fi, err := os.Stat(d.Path(sub)); err != nil || !fi.IsDir() {
			t.Errorf("%s: %v", sub, err)
		}
	}
	left, _ := os.ReadDir(d.Root)
	if len(left) != 3 {
		t.Errorf("the writability probe left files behind: %v", left)
	}
}

// A DATA_DIR that cannot be made is one line naming the variable and why.
func TestOpenUnwritableIsOneLine(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := datadir.Open(filepath.Join(file, "data"))
	if err == nil {
		t.Fatal("a DATA_DIR under a file was accepted")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "DATA_DIR: ") || !strings.Contains(msg, "not writable") || strings.Contains(msg, "\n") {
		t.Fatalf("error %q", msg)
	}
}

func TestCacheRoundTripAndRebuild(t *testing.T) {
	d, err := datadir.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c := d.Cache()
	var got []string
	if _, ok := c.Load("models", &got); ok {
		t.Fatal("a missing snapshot loaded")
	}
	if err := c.Store("models", []string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Load("models", &got); !ok || len(got) != 2 || got[1] != "b" {
		t.Fatalf("round trip: %v %v", got, ok)
	}
	// A corrupt snapshot is a miss, and is removed so the next Store rebuilds it.
	p := d.Path("cache", "models.json")
	if err := os.WriteFile(p, []byte(`{"format":1,"data":[1,`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Load("models", &got); ok {
		t.Fatal("a corrupt snapshot loaded")
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Fatalf("the corrupt snapshot is still there: %v", err)
	}
	// Over the bound: never written.
	if err := c.Store("big", strings.Repeat("x", datadir.MaxCacheBytes)); err == nil {
		t.Fatal("an oversized snapshot was written")
	}
	if err := c.Store("../escape", 1); err == nil {
		t.Fatal("a name with a path was accepted")
	}
}

func TestRedact(t *testing.T) {
	const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"
	for in, leak := range map[string]string{
		`{"type":"authenticate","token":"` + jwt + `"}`:         jwt,
		`{"api_key":"pod_admin_123","x":1}`:                     "pod_admin_123",
		`{"secrets":{"ensemble_api_key":"ens_42"}}`:             "ens_42",
		`{"sealed_secret":"abc\"def"}`:                          `abc\"def`,
		`{"text":"Authorization: Bearer abc.def-ghi"}`:          "abc.def-ghi",
		`{"content":{"text":"here is a token ` + jwt + ` ok"}}`: jwt,
	} {
		out := datadir.Redact(in)
		if strings.Contains(out, leak) || !strings.Contains(out, datadir.Redacted) {
			t.Errorf("Redact(%s) = %s", in, out)
		}
	}
	if in := `{"type":"run_turn","text":"hello"}`; datadir.Redact(in) != in {
		t.Errorf("a frame without secrets changed: %s", datadir.Redact(in))
	}
}

func TestDumpsAreOnlyWhatIsSwitchedOn(t *testing.T) {
	d, err := datadir.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Dumps(datadir.DumpConfig{Channels: []string{"bogus"}}); err == nil {
		t.Fatal("an unknown channel was accepted")
	}
	dumps, err := d.Dumps(datadir.DumpConfig{Channels: []string{"ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer dumps.Close()
	if dumps.Channel("podium") != nil || dumps.Channel("ws") == nil {
		t.Fatal("channels on: want ws only")
	}
	dumps.Channel("ws").Frame("in", "c1", []byte(`{"token":"secret-value"}`))
	b, err := os.ReadFile(d.Path("debug", "ws.jsonl"))
	if err != nil || !strings.Contains(string(b), `"dir":"in"`) || strings.Contains(string(b), "secret-value") {
		t.Fatalf("ws dump %q %v", b, err)
	}
	if _, err := os.Stat(d.Path("debug", "podium.jsonl")); !os.IsNotExist(err) {
		t.Fatal("a podium dump was written with only ws on")
	}
}
