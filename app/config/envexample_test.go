package config

import (
	"os"
	"reflect"
	"regexp"
	"testing"

	"github.com/joho/godotenv"
)

// .env.example names every variable the gateway reads, and as written (the
// commented-out ones left out) it is a configuration that starts.
func TestEnvExampleIsCompleteAndValid(t *testing.T) {
	raw, err := os.ReadFile("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	mentioned := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#? ?([A-Z][A-Z0-9_]*)=`).FindAllStringSubmatch(string(raw), -1) {
		mentioned[m[1]] = true
	}
	ct := reflect.TypeOf(Config{})
	for i := range ct.NumField() {
		if name := ct.Field(i).Tag.Get("env"); name != "" && !mentioned[name] {
			t.Errorf(".env.example does not mention %s", name)
		}
	}

	vars, err := godotenv.Unmarshal(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	environ := make([]string, 0, len(vars))
	for k, v := range vars {
		environ = append(environ, k+"="+v)
	}
	cfg, err := Parse(environ)
	if err != nil {
		t.Fatalf(".env.example as written: %v", err)
	}
	if !cfg.DevMode || !IsLoopback(cfg.Host) {
		t.Fatalf(".env.example must default to dev mode on loopback: %+v", cfg)
	}
	def, err := Parse([]string{"DEV_MODE=true", "HOST=127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, def) {
		t.Fatalf(".env.example's values differ from the defaults:\n%+v\n%+v", cfg, def)
	}
}
