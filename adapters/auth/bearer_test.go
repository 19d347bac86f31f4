package auth

import "testing"

func TestBearerToken(t *testing.T) {
	for h, want := range map[string]string{
		"Bearer abc.def.ghi": "abc.def.ghi",
		"bearer abc":         "abc",
		"BEARER   abc  ":     "abc",
		"  Bearer abc":       "abc",
		"Bearer ":            "",
		"Bearer":             "",
		"Basic YWxpY2U6cHc=": "",
		"":                   "",
		"Bearerabc":          "",
		"Token abc":          "",
		"Bearer\tabc":        "",
	} {
		got, ok := BearerToken(h)
		if got != want || ok != (want != "") {
			t.Errorf("BearerToken(%q) = %q, %v; want %q", h, got, ok, want)
		}
	}
}
