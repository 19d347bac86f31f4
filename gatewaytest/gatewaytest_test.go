package gatewaytest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/diminuendo/diminuendo/gatewaytest"
)

func get(t *testing.T, url, token string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// Outside dev mode the gateway verifies RS256 tokens from the local IdP:
// a minted token speaks for the claims asked for, no token is refused.
func TestStartVerifiesMintedTokens(t *testing.T) {
	gw := gatewaytest.Start(t)
	if !strings.HasPrefix(gw.URL, "http://127.0.0.1:") || gw.WSURL != "ws://"+strings.TrimPrefix(gw.URL, "http://")+"/ws" {
		t.Fatalf("URL %q, WSURL %q", gw.URL, gw.WSURL)
	}
	if code, _ := get(t, gw.URL+"/api/me", ""); code != http.StatusUnauthorized {
		t.Fatalf("/api/me without a token: %d", code)
	}
	code, me := get(t, gw.URL+"/api/me", gw.Token(gatewaytest.User("ada"), gatewaytest.Tenant("acme"), gatewaytest.Role("admin")))
	if code != http.StatusOK || me["userId"] != "ada" || me["tenantId"] != "acme" || me["role"] != "admin" {
		t.Fatalf("/api/me: %d %v", code, me)
	}
	if code, _ := get(t, gw.URL+"/api/me", gw.Token(gatewaytest.ExpiresIn(-time.Minute))); code != http.StatusUnauthorized {
		t.Fatalf("/api/me with an expired token: %d", code)
	}
}

// Dev mode needs no token; fakes serve the same sessions API.
func TestStartDevModeWithFakes(t *testing.T) {
	gw := gatewaytest.Start(t, gatewaytest.WithDevMode(), gatewaytest.WithFakes())
	if gw.IdP != nil || gw.Token() != "" {
		t.Fatal("dev mode has no IdP and mints no tokens")
	}
	resp, err := http.Post(gw.URL+"/api/sessions", "application/json", strings.NewReader(`{"agentType":"echo"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	code, list := get(t, gw.URL+"/api/sessions", "")
	if code != http.StatusOK || len(list["sessions"].([]any)) != 1 {
		t.Fatalf("list: %d %v", code, list)
	}
}
