package domain

import (
	"strings"
	"testing"
)

func TestCleanWorkspacePathNormalises(t *testing.T) {
	for in, want := range map[string]string{
		"":                        "",
		"/":                       "",
		".":                       "",
		"//./":                    "",
		"README.md":               "README.md",
		"/src/main.go":            "src/main.go",
		"src//app/./main.go":      "src/app/main.go",
		"src/app/":                "src/app",
		"...":                     "...",
		"a..b/c..":                "a..b/c..",
		"%2e%2e/x":                "%2e%2e/x", // literal: adapters escape it, nobody decodes it twice
		"docs/naïve café.md":      "docs/naïve café.md",
		"~/x":                     "~/x",
		"ab:c":                    "ab:c", // a single letter and a colon would be a drive
		strings.Repeat("a", 1024): strings.Repeat("a", 1024),
	} {
		got, err := CleanWorkspacePath(in)
		if err != nil || got != want {
			t.Errorf("CleanWorkspacePath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestCleanWorkspacePathRefusesEscapes(t *testing.T) {
	for _, in := range []string{
		"..", "/..", "../etc/passwd", "a/../../b", "a/..", "a/../b", "/../../etc/shadow",
		"..\\..\\windows", "a\\b", "C:\\x", "c:/x", "Z:",
		"a\x00b", "\x00", "a\nb", "a\rb", "a\tb", "\x7f",
		"\xff\xfe", strings.Repeat("a", 1025), "/" + strings.Repeat("a", 1024),
	} {
		got, err := CleanWorkspacePath(in)
		if err == nil {
			t.Errorf("CleanWorkspacePath(%q) = %q, want an error", in, got)
			continue
		}
		if KindOf(err) != KindInvalidMessage {
			t.Errorf("CleanWorkspacePath(%q): kind %v, want invalid message", in, KindOf(err))
		}
	}
}

func TestCleanWorkspaceFileNeedsAName(t *testing.T) {
	for _, in := range []string{"", "/", "./", "//"} {
		if _, err := CleanWorkspaceFile(in); KindOf(err) != KindInvalidMessage {
			t.Errorf("CleanWorkspaceFile(%q): %v, want invalid message", in, err)
		}
	}
	if got, err := CleanWorkspaceFile("/a/b"); err != nil || got != "a/b" {
		t.Errorf("CleanWorkspaceFile(/a/b) = %q, %v", got, err)
	}
	if _, err := CleanWorkspaceFile("../a"); KindOf(err) != KindInvalidMessage {
		t.Errorf("CleanWorkspaceFile(../a): %v, want invalid message", err)
	}
}
