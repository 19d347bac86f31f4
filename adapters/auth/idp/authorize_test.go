package idp

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/diminuendo/diminuendo/adapters/auth"
	"github.com/diminuendo/diminuendo/domain"
)

const (
	spaClient   = "spa-test"
	spaCallback = "http://127.0.0.1:5173/callback"
	spaOrigin   = "http://127.0.0.1:5173"
)

// noRedirects stops at the first redirect, where the code or error is.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func startFlowIdP(t *testing.T, opts ...Option) (*IdP, string) {
	t.Helper()
	p, err := New(append([]Option{WithClient(Client{ID: spaClient, RedirectURIs: []string{spaCallback}})}, opts...)...)
	require.NoError(t, err)
	iss, err := p.Start("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	return p, strings.TrimSuffix(iss, "/")
}

// pkce returns a verifier and its S256 challenge, as the SDK makes them.
func pkce(seed string) (string, string) {
	verifier := strings.Repeat(seed, 43)[:43]
	sum := sha256.Sum256([]byte(verifier))
	return verifier, b64.EncodeToString(sum[:])
}

func authorizeParams(challenge string) url.Values {
	return url.Values{"client_id": {spaClient}, "redirect_uri": {spaCallback}, "response_type": {"code"},
		"response_mode": {"query"}, "scope": {"openid profile email offline_access"}, "audience": {DefaultAudience},
		"state": {"st-1"}, "nonce": {"n-1"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
}

// signIn goes through the sign-in page as a person would: GET shows the
// form, POST with the chosen user redirects to the callback with a code.
func signIn(t *testing.T, base string, params url.Values, email, tenant, role string) url.Values {
	t.Helper()
	resp, err := noRedirects.Get(base + "/authorize?" + params.Encode())
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, string(page))
	require.Contains(t, string(page), `<form method="post" action="authorize">`)
	require.Contains(t, string(page), `name="code_challenge" value="`+params.Get("code_challenge")+`"`)

	form := url.Values{}
	for k, v := range params {
		form[k] = v
	}
	form.Set("email", email)
	form.Set("tenant", tenant)
	form.Set("role", role)
	resp, err = noRedirects.PostForm(base+"/authorize", form)
	require.NoError(t, err)
	resp.Body.Close()
	return callback(t, resp)
}

// callback checks resp redirects to the registered callback and returns its query.
func callback(t *testing.T, resp *http.Response) url.Values {
	t.Helper()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, spaCallback, loc.Scheme+"://"+loc.Host+loc.Path)
	return loc.Query()
}

type tokenReply struct {
	status int
	body   map[string]any
}

func exchange(t *testing.T, base string, form url.Values) tokenReply {
	t.Helper()
	resp, err := http.PostForm(base+"/oauth/token", form)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return tokenReply{resp.StatusCode, body}
}

func codeForm(code, verifier string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "client_id": {spaClient}, "code": {code},
		"code_verifier": {verifier}, "redirect_uri": {spaCallback}}
}

func requireGrantError(t *testing.T, r tokenReply, code string) {
	t.Helper()
	require.Equal(t, http.StatusBadRequest, r.status, r.body)
	require.Equal(t, code, r.body["error"], r.body)
	require.NotContains(t, r.body, "access_token")
}

func TestPKCESignInIssuesTokensTheGatewayAccepts(t *testing.T) {
	p, base := startFlowIdP(t)
	verifier, challenge := pkce("v")
	q := signIn(t, base, authorizeParams(challenge), "ada@example.com", "acme", "admin")
	require.Equal(t, "st-1", q.Get("state"))
	require.NotEmpty(t, q.Get("code"))

	r := exchange(t, base, codeForm(q.Get("code"), verifier))
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.Equal(t, "Bearer", r.body["token_type"])
	require.EqualValues(t, 3600, r.body["expires_in"])

	// The gateway's own verifier, configured as the gateway would be.
	v, err := auth.NewVerifier(auth.Config{Domain: base, Audience: DefaultAudience})
	require.NoError(t, err)
	id, _, err := v.Verify(context.Background(), r.body["access_token"].(string))
	require.NoError(t, err)
	require.Equal(t, "local|ada@example.com", id.UserID)
	require.Equal(t, "ada@example.com", id.Email)
	require.Equal(t, "acme", id.TenantID)
	require.Equal(t, domain.RoleAdmin, id.Role)

	// The id_token is for the client and answers this request's nonce.
	parts := strings.Split(r.body["id_token"].(string), ".")
	require.Len(t, parts, 3)
	var header, claims map[string]any
	decode(t, parts[0], &header)
	decode(t, parts[1], &claims)
	require.Equal(t, "RS256", header["alg"])
	require.Equal(t, p.KeyID(), header["kid"])
	require.Equal(t, p.Issuer(), claims["iss"])
	require.Equal(t, spaClient, claims["aud"])
	require.Equal(t, "n-1", claims["nonce"])
	require.Equal(t, "ada@example.com", claims["email"])

	// offline_access brought a refresh token; it rotates on use.
	rt := r.body["refresh_token"].(string)
	refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {spaClient}, "refresh_token": {rt}}
	r2 := exchange(t, base, refresh)
	require.Equal(t, http.StatusOK, r2.status, r2.body)
	id2, _, err := v.Verify(context.Background(), r2.body["access_token"].(string))
	require.NoError(t, err)
	require.Equal(t, id, id2)
	require.NotEqual(t, rt, r2.body["refresh_token"])
	requireGrantError(t, exchange(t, base, refresh), "invalid_grant")
}

func TestCodeExchangeRefusals(t *testing.T) {
	_, base := startFlowIdP(t)
	verifier, challenge := pkce("v")
	newCode := func() string {
		return signIn(t, base, authorizeParams(challenge), "a@b.c", "t1", "developer").Get("code")
	}

	t.Run("wrong verifier, and the code is spent", func(t *testing.T) {
		code := newCode()
		wrong, _ := pkce("w")
		requireGrantError(t, exchange(t, base, codeForm(code, wrong)), "invalid_grant")
		requireGrantError(t, exchange(t, base, codeForm(code, verifier)), "invalid_grant")
	})
	t.Run("no verifier", func(t *testing.T) {
		requireGrantError(t, exchange(t, base, codeForm(newCode(), "")), "invalid_grant")
	})
	t.Run("reused code", func(t *testing.T) {
		code := newCode()
		require.Equal(t, http.StatusOK, exchange(t, base, codeForm(code, verifier)).status)
		requireGrantError(t, exchange(t, base, codeForm(code, verifier)), "invalid_grant")
	})
	t.Run("another redirect_uri at the token endpoint", func(t *testing.T) {
		f := codeForm(newCode(), verifier)
		f.Set("redirect_uri", "http://127.0.0.1:5173/other")
		requireGrantError(t, exchange(t, base, f), "invalid_grant")
	})
	t.Run("another client", func(t *testing.T) {
		f := codeForm(newCode(), verifier)
		f.Set("client_id", "someone-else")
		requireGrantError(t, exchange(t, base, f), "invalid_grant")
	})
	t.Run("a JSON body, as older SDKs send it", func(t *testing.T) {
		raw, _ := json.Marshal(map[string]string{"grant_type": "authorization_code", "client_id": spaClient,
			"code": newCode(), "code_verifier": verifier, "redirect_uri": spaCallback})
		resp, err := http.Post(base+"/oauth/token", "application/json", strings.NewReader(string(raw)))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	})
	t.Run("made-up code", func(t *testing.T) {
		requireGrantError(t, exchange(t, base, codeForm("nope", verifier)), "invalid_grant")
	})
	t.Run("unknown grant type", func(t *testing.T) {
		requireGrantError(t, exchange(t, base, url.Values{"grant_type": {"password"}}), "unsupported_grant_type")
	})
}

func TestCodesExpire(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	var elapsed atomic.Int64 // the server's handlers read it
	_, base := startFlowIdP(t, WithClock(func() time.Time { return now.Add(time.Duration(elapsed.Load())) }))
	verifier, challenge := pkce("v")
	code := signIn(t, base, authorizeParams(challenge), "a@b.c", "t1", "viewer").Get("code")
	elapsed.Store(int64(CodeTTL))
	requireGrantError(t, exchange(t, base, codeForm(code, verifier)), "invalid_grant")
}

func TestAuthorizeRefusals(t *testing.T) {
	_, base := startFlowIdP(t)
	_, challenge := pkce("v")

	// Never redirected: the callback is not one of the client's.
	for name, change := range map[string]func(url.Values){
		"bad redirect_uri":      func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:9999/callback") },
		"redirect_uri prefixed": func(q url.Values) { q.Set("redirect_uri", spaCallback+"/../evil") },
		"unknown client":        func(q url.Values) { q.Set("client_id", "nobody") },
	} {
		q := authorizeParams(challenge)
		change(q)
		resp, err := noRedirects.Get(base + "/authorize?" + q.Encode())
		require.NoError(t, err, name)
		resp.Body.Close()
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, name)
		require.Empty(t, resp.Header.Get("Location"), name)
	}

	// Told to the client on its callback, with the state.
	for name, c := range map[string]struct {
		change func(url.Values)
		error  string
	}{
		"implicit flow":  {func(q url.Values) { q.Set("response_type", "token") }, "unsupported_response_type"},
		"no PKCE":        {func(q url.Values) { q.Del("code_challenge") }, "invalid_request"},
		"plain PKCE":     {func(q url.Values) { q.Set("code_challenge_method", "plain") }, "invalid_request"},
		"other audience": {func(q url.Values) { q.Set("audience", "https://elsewhere") }, "access_denied"},
		"silent":         {func(q url.Values) { q.Set("prompt", "none") }, "login_required"},
	} {
		q := authorizeParams(challenge)
		c.change(q)
		resp, err := noRedirects.Get(base + "/authorize?" + q.Encode())
		require.NoError(t, err, name)
		resp.Body.Close()
		back := callback(t, resp)
		require.Equal(t, c.error, back.Get("error"), name)
		require.Equal(t, "st-1", back.Get("state"), name)
		require.Empty(t, back.Get("code"), name)
	}

	form := authorizeParams(challenge)
	form.Set("email", "a@b.c")
	form.Set("tenant", "t1")
	form.Set("role", "superuser")
	resp, err := noRedirects.PostForm(base+"/authorize", form)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "only the roles the gateway knows")
}

func TestAutoApproveSkipsThePage(t *testing.T) {
	_, base := startFlowIdP(t, WithAutoApprove(Claims{Subject: "u-auto", Email: "auto@example.com", TenantID: "local", Role: "owner"}))
	verifier, challenge := pkce("z")
	resp, err := noRedirects.Get(base + "/authorize?" + authorizeParams(challenge).Encode())
	require.NoError(t, err)
	resp.Body.Close()
	q := callback(t, resp)
	r := exchange(t, base, codeForm(q.Get("code"), verifier))
	require.Equal(t, http.StatusOK, r.status, r.body)
}

// The SPA calls the token endpoint cross-origin; only its own origins get CORS.
func TestTokenEndpointCORS(t *testing.T) {
	_, base := startFlowIdP(t)
	preflight := func(origin string) http.Header {
		req, _ := http.NewRequest(http.MethodOptions, base+"/oauth/token", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type,auth0-client")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.Header
	}
	h := preflight(spaOrigin)
	require.Equal(t, spaOrigin, h.Get("Access-Control-Allow-Origin"))
	require.Contains(t, h.Get("Access-Control-Allow-Headers"), "Auth0-Client")
	require.Empty(t, preflight("http://evil.example").Get("Access-Control-Allow-Origin"))
}

func TestLogoutReturnsOnlyToTheClientsOrigins(t *testing.T) {
	_, base := startFlowIdP(t)
	get := func(q url.Values) *http.Response {
		resp, err := noRedirects.Get(base + "/v2/logout?" + q.Encode())
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	resp := get(url.Values{"client_id": {spaClient}, "returnTo": {spaOrigin + "/"}})
	require.Equal(t, http.StatusFound, resp.StatusCode)
	require.Equal(t, spaOrigin+"/", resp.Header.Get("Location"))
	require.Equal(t, http.StatusBadRequest, get(url.Values{"client_id": {spaClient}, "returnTo": {"http://evil.example/"}}).StatusCode)
}

func TestDiscoveryNamesTheFlowEndpoints(t *testing.T) {
	_, base := startFlowIdP(t)
	var disc map[string]any
	getJSON(t, base+"/.well-known/openid-configuration", &disc)
	require.Equal(t, base+"/authorize", disc["authorization_endpoint"])
	require.Equal(t, base+"/oauth/token", disc["token_endpoint"])
	require.Equal(t, base+"/oidc/logout", disc["end_session_endpoint"])
	require.Equal(t, []any{"S256"}, disc["code_challenge_methods_supported"])
}

func TestGrantStoreIsBounded(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := newGrantStore(2)
	a, ok := s.put(grant{expires: now.Add(time.Second)}, now)
	require.True(t, ok)
	_, ok = s.put(grant{expires: now.Add(time.Minute)}, now)
	require.True(t, ok)
	_, ok = s.put(grant{expires: now.Add(time.Minute)}, now)
	require.False(t, ok, "full of live grants: refused, none evicted")
	require.Equal(t, 2, s.len())
	_, ok = s.put(grant{expires: now.Add(time.Minute)}, now.Add(2*time.Second))
	require.True(t, ok, "the expired one made room")
	_, ok = s.take(a, now)
	require.False(t, ok, "the expired grant is gone")
	require.Equal(t, 2, s.len())
}
