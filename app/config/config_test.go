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
		"WS_OUTBOX_BYTES":       {"WS_OUTBOX_BYTES=100"},
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

func TestAuthSettings(t *testing.T) {
	base := []string{"AUTH0_DOMAIN=acme.eu.auth0.com", "AUTH0_AUDIENCE=api"}
	cfg, err := Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AuthTimeout != 10*time.Second || cfg.AuthExpiryWarning != time.Minute ||
		cfg.AuthFailuresPerMinute != 10 || cfg.AuthFailureBurst != 5 {
		t.Fatalf("defaults: %+v", cfg)
	}
	cfg, err = Parse(append(base, "AUTH_TIMEOUT=500ms", "AUTH_EXPIRY_WARNING=0s", "AUTH_FAILURES_PER_MINUTE=30", "AUTH_FAILURE_BURST=20"))
	if err != nil || cfg.AuthTimeout != 500*time.Millisecond || cfg.AuthExpiryWarning != 0 ||
		cfg.AuthFailuresPerMinute != 30 || cfg.AuthFailureBurst != 20 {
		t.Fatalf("set: %+v %v", cfg, err)
	}
	for bad, name := range map[string]string{
		"AUTH_TIMEOUT=0s":            "AUTH_TIMEOUT",
		"AUTH_TIMEOUT=ten":           "AUTH_TIMEOUT",
		"AUTH_EXPIRY_WARNING=-1s":    "AUTH_EXPIRY_WARNING",
		"AUTH_FAILURES_PER_MINUTE=0": "AUTH_FAILURES_PER_MINUTE",
		"AUTH_FAILURE_BURST=-3":      "AUTH_FAILURE_BURST",
		"AUTH0_AUDIENCE=":            "AUTH0_AUDIENCE",
	} {
		_, err := Parse(append(append([]string{}, base...), bad))
		if err == nil || !strings.Contains(err.Error(), name) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: want one line naming %s, got %v", bad, name, err)
		}
	}
}

func TestDevModeBind(t *testing.T) {
	for _, tc := range []struct {
		env []string
		ok  bool
	}{
		{[]string{"DEV_MODE=true", "HOST=127.0.0.1"}, true},
		{[]string{"DEV_MODE=true", "HOST=localhost"}, true},
		{[]string{"DEV_MODE=true", "HOST=::1"}, true},
		{[]string{"DEV_MODE=true"}, false}, // HOST defaults to 0.0.0.0
		{[]string{"DEV_MODE=true", "HOST=0.0.0.0"}, false},
		{[]string{"DEV_MODE=true", "HOST=::"}, false},
		{[]string{"DEV_MODE=true", "HOST=10.1.2.3"}, false},
		{[]string{"DEV_MODE=true", "HOST=0.0.0.0", "DEV_MODE_ALLOW_REMOTE=true"}, true},
	} {
		_, err := Parse(tc.env)
		if tc.ok && err != nil {
			t.Errorf("%v: %v", tc.env, err)
		}
		if !tc.ok && (err == nil || !strings.HasPrefix(err.Error(), "DEV_MODE:") || !strings.Contains(err.Error(), "DEV_MODE_ALLOW_REMOTE=true")) {
			t.Errorf("%v: want a refusal naming DEV_MODE_ALLOW_REMOTE, got %v", tc.env, err)
		}
	}
}
