package domain

import (
	"strings"
	"testing"
)

func TestValidID(t *testing.T) {
	good := []string{"a", "acme", "tenant-1", "a.b_c:d", "550e8400-e29b-41d4-a716-446655440000", "...", strings.Repeat("x", MaxIDLen)}
	bad := []string{"", ".", "..", "a/b", "../x", "a b", "a%2Fb", "a?b", "a#b", "ü", "a\x00b", strings.Repeat("x", MaxIDLen+1)}
	for _, s := range good {
		if !ValidID(s) {
			t.Errorf("ValidID(%q) = false, want true", s)
		}
	}
	for _, s := range bad {
		if ValidID(s) {
			t.Errorf("ValidID(%q) = true, want false", s)
		}
	}
}
