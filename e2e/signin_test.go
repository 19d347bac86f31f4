package e2e

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/diminuendo/diminuendo/adapters/auth/idp"
	"github.com/diminuendo/diminuendo/app/config"
)

type authConfig struct {
	Domain   string `json:"domain"`
	ClientID string `json:"clientId"`
	Audience string `json:"audience"`
	DevMode  bool   `json:"devMode"`
}

func getAuthConfig(t *testing.T, g *gateway) authConfig {
	t.Helper()
	resp, err := http.Get(g.url("/api/auth/config"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/auth/config without a token: %d", resp.StatusCode)
	}
	var c authConfig
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

// The sign-in settings are public: a browser reads them before it has a token.
func TestAuthConfigNeedsNoToken(t *testing.T) {
	g, p := startAuthGateway(t, func(c *config.Config) { c.Auth0ClientID = "spa-e2e" })
	got := getAuthConfig(t, g)
	want := authConfig{Domain: strings.TrimSuffix(p.Issuer(), "/"), ClientID: "spa-e2e", Audience: testAudience}
	if got != want {
		t.Fatalf("auth config = %+v, want %+v", got, want)
	}
	if r := g.rest(t, "GET", "/api/me", "", nil); r.status != http.StatusUnauthorized {
		t.Fatalf("/api/me without a token: %d, want 401", r.status)
	}

	dev := startGateway(t, nil)
	if got := getAuthConfig(t, dev); !got.DevMode {
		t.Fatalf("dev mode gateway: %+v", got)
	}
}

// A browser's whole sign-in, over HTTP: the settings from the gateway, the
// Authorization Code flow with PKCE at the local IdP, then the access token
// on the gateway's REST API and WebSocket.
func TestPKCESignInReachesTheGateway(t *testing.T) {
	const clientID, callbackURL = "spa-e2e", "http://127.0.0.1:5173/"
	p, err := idp.New(idp.WithAudience(testAudience), idp.WithClient(idp.Client{ID: clientID, RedirectURIs: []string{callbackURL}}),
		idp.WithAutoApprove(idp.Claims{Subject: "auth0|pkce", Email: "pkce@example.com", TenantID: "acme", Role: "developer"}))
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := p.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	g, _ := startAuthGateway(t, func(c *config.Config) { c.Auth0Domain, c.Auth0ClientID = issuer, clientID })

	cfg := getAuthConfig(t, g)
	verifier := strings.Repeat("pkce-verifier-", 4)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {cfg.ClientID}, "redirect_uri": {callbackURL}, "response_type": {"code"}, "audience": {cfg.Audience},
		"scope": {"openid email"}, "state": {"s"}, "nonce": {"n"}, "code_challenge_method": {"S256"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(cfg.Domain + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusSeeOther || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = http.PostForm(cfg.Domain+"/oauth/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {cfg.ClientID},
		"code": {loc.Query().Get("code")}, "code_verifier": {verifier}, "redirect_uri": {callbackURL}})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		t.Fatalf("token: %d %v", resp.StatusCode, err)
	}

	r := g.rest(t, "GET", "/api/me", tok.AccessToken, nil)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `"email":"pkce@example.com"`) || !strings.Contains(string(r.body), `"tenantId":"acme"`) {
		t.Fatalf("/api/me with the signed-in token: %d %s", r.status, r.body)
	}
	c := g.dial(t, bearer(tok.AccessToken))
	c.expect("welcome")
	c.expect("connected")
	if id := c.expect("authenticated")["identity"].(map[string]any); id["userId"] != "auth0|pkce" {
		t.Fatalf("socket identity: %v", id)
	}
}
