package domain

import "testing"

func TestOrigins(t *testing.T) {
	dev := NewOrigins([]string{"https://app.example.com/"}, true)
	prod := NewOrigins([]string{" https://app.example.com "}, false)
	for _, c := range []struct {
		origin    string
		dev, prod bool
	}{
		{"", true, true},
		{"https://app.example.com", true, true},
		{"https://app.example.com/", true, true},
		{"http://localhost:5173", true, false},
		{"http://127.0.0.1:8080", true, false},
		{"http://127.9.9.9", true, false},
		{"http://[::1]:3000", true, false},
		{"https://evil.example", false, false},
		{"http://localhost.evil.example", false, false},
		{"http://127.0.0.1.evil.example", false, false},
		{"http://user@localhost", false, false},
		{"file://", false, false},
		{"null", false, false},
		{"chrome-extension://abc", false, false},
	} {
		if got := dev.Allowed(c.origin); got != c.dev {
			t.Errorf("dev mode, %q: %v", c.origin, got)
		}
		if got := prod.Allowed(c.origin); got != c.prod {
			t.Errorf("production, %q: %v", c.origin, got)
		}
	}
}
