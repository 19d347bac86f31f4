package config

import (
	"strings"
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	cfg, err := Parse([]string{"DEV_MODE=true", "HOST=127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Port != 8080 || cfg.LogLevel != "info" || cfg.DataDir != "./data" || !cfg.Embedded() ||
		cfg.MaxConnections != 10000 || cfg.MaxActiveSessions != 5000 || cfg.IdleTimeout != 30*time.Minute ||
		cfg.RateLimitMessages != 60 || cfg.RateLimitWindow != 10*time.Second {
		t.Fatalf("defaults: %+v", cfg)
	}
	if cfg.Addr() != "127.0.0.1:8080" {
		t.Fatal(cfg.Addr())
	}
}

// Each bad value stops startup with one line that names the variable.
func TestBadValuesNameTheVariable(t *testing.T) {
	base := []string{"DEV_MODE=true", "HOST=127.0.0.1"}
	cases := map[string][]string{
		"PORT":                  {"PORT=eighty"},
		"PORT ":                 {"PORT=70000"},
		"HOST":                  {"HOST=not an ip"},
		"LOG_LEVEL":             {"LOG_LEVEL=loud"},
		"PODIUM_URL":            {"PODIUM_URL=ftp://x", "UNISON_URL=http://u"},
		"UNISON_URL":            {"PODIUM_URL=http://p"},
		"ALLOWED_ORIGINS":       {"ALLOWED_ORIGINS=app.example.com"},
		"DEV_MODE":              {"HOST=0.0.0.0"},
		"DEV_MODE=":             {"DEV_MODE=maybe"},
		"SESSION_IDLE_TIMEOUT":  {"SESSION_IDLE_TIMEOUT=soon"},
		"MAX_CONNECTIONS":       {"MAX_CONNECTIONS=0"},
		"WS_RATE_LIMIT":         {"WS_RATE_LIMIT=-1"},
		"DEV_MODE_ALLOW_REMOTE": {"DEV_MODE_ALLOW_REMOTE=perhaps"},
	}
	for name, env := range cases {
		_, err := Parse(append(append([]string{}, base...), env...))
		if err == nil {
			t.Errorf("%v accepted", env)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, strings.TrimRight(strings.TrimSpace(name), "=")) || strings.Contains(msg, "\n") {
			t.Errorf("%v: %q should be one line naming %s", env, msg, name)
		}
	}
}

func TestProductionNeedsAuth0(t *testing.T) {
	if _, err := Parse([]string{"HOST=0.0.0.0"}); err == nil || !strings.Contains(err.Error(), "AUTH0_DOMAIN") {
		t.Fatalf("no AUTH0_DOMAIN: %v", err)
	}
	if _, err := Parse([]string{"AUTH0_DOMAIN=t.auth0.com"}); err == nil || !strings.Contains(err.Error(), "AUTH0_AUDIENCE") {
		t.Fatalf("no AUTH0_AUDIENCE: %v", err)
	}
	cfg, err := Parse([]string{"AUTH0_DOMAIN=t.auth0.com", "AUTH0_AUDIENCE=https://api", "ALLOWED_ORIGINS=https://a.example.com, https://b.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.AllowedOrigins) != 2 || cfg.Host != "0.0.0.0" {
		t.Fatalf("%+v", cfg)
	}
	if _, err := Parse([]string{"DEV_MODE=true", "HOST=0.0.0.0", "DEV_MODE_ALLOW_REMOTE=true"}); err != nil {
		t.Fatalf("explicit override refused: %v", err)
	}
}
