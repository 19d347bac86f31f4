package idp

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"html/template"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Client is a single-page application allowed to sign in with the
// Authorization Code flow and PKCE, as an Auth0 "Single Page Application".
type Client struct {
	ID string
	// RedirectURIs are Auth0's "Allowed Callback URLs", compared exactly.
	// Their origins are the "Allowed Web Origins" the token endpoint
	// answers cross-origin, and they double as "Allowed Logout URLs".
	RedirectURIs []string
}

// WithClient registers an SPA client. Without one, /authorize refuses all.
func WithClient(c Client) Option {
	return func(p *IdP) {
		if p.clients == nil {
			p.clients = map[string]Client{}
		}
		p.clients[c.ID] = c
	}
}

// WithAutoApprove signs every authorization request in as user without
// showing the sign-in page, for runs where nobody is there to click.
func WithAutoApprove(user Claims) Option {
	return func(p *IdP) { p.autoUser = &user }
}

// Roles offered on the sign-in page, most powerful first.
var signInRoles = []string{"owner", "admin", "developer", "viewer", "guest"}

// accessTokenTTL is the lifetime of access tokens from the code flow; the
// SDK renews them with the refresh token.
const accessTokenTTL = time.Hour

// authRequest is a validated /authorize request.
type authRequest struct {
	client                                     Client
	redirectURI, state, nonce, scope, audience string
	challenge, responseMode                    string
}

// oauthError is an error the client may see, in RFC 6749 terms.
type oauthError struct{ code, description string }

func (e *oauthError) Error() string { return e.code + ": " + e.description }

func (p *IdP) mountAuthorize(mux *http.ServeMux) {
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /authorize", p.authorize)
	mux.HandleFunc("POST /oauth/token", p.token)
	mux.HandleFunc("OPTIONS /oauth/token", p.token)
	mux.HandleFunc("GET /v2/logout", p.logout)
	mux.HandleFunc("GET /oidc/logout", p.logout)
}

// parseAuthRequest checks an authorization request. A bad client or
// redirect URI is answered on the IdP's own page, never by redirecting: the
// redirect would hand an error (or later a code) to an unvetted address.
func (p *IdP) parseAuthRequest(q url.Values) (authRequest, *oauthError, bool) {
	c, ok := p.clients[q.Get("client_id")]
	if !ok {
		return authRequest{}, &oauthError{"invalid_client", "unknown client_id"}, false
	}
	ru := q.Get("redirect_uri")
	if !slices.Contains(c.RedirectURIs, ru) {
		return authRequest{}, &oauthError{"invalid_request", "redirect_uri is not an allowed callback URL of this client"}, false
	}
	ar := authRequest{client: c, redirectURI: ru, state: q.Get("state"), nonce: q.Get("nonce"), scope: q.Get("scope"),
		audience: q.Get("audience"), challenge: q.Get("code_challenge"), responseMode: q.Get("response_mode")}
	if ar.audience == "" {
		ar.audience = p.audience
	}
	switch {
	case q.Get("response_type") != "code":
		return ar, &oauthError{"unsupported_response_type", "only response_type=code is supported"}, true
	case ar.responseMode != "" && ar.responseMode != "query":
		return ar, &oauthError{"invalid_request", "only response_mode=query is supported"}, true
	case q.Get("code_challenge_method") != "S256":
		return ar, &oauthError{"invalid_request", "PKCE with code_challenge_method=S256 is required"}, true
	case len(ar.challenge) != 43 || strings.Trim(ar.challenge, b64urlAlphabet) != "":
		return ar, &oauthError{"invalid_request", "code_challenge must be a base64url SHA-256 digest"}, true
	case ar.audience != p.audience:
		return ar, &oauthError{"access_denied", "unknown audience " + ar.audience}, true
	case q.Get("prompt") == "none" && p.autoUser == nil:
		return ar, &oauthError{"login_required", "there is no sign-in session"}, true
	}
	return ar, nil, true
}

const b64urlAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// authorize shows the sign-in page (GET) and, once a user is chosen (POST
// from that page, or the auto-approved user), redirects back with a code.
func (p *IdP) authorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	ar, oerr, redirectable := p.parseAuthRequest(r.Form)
	if oerr != nil {
		if !redirectable {
			w.Header().Set("Cache-Control", "no-store")
			http.Error(w, oerr.Error(), http.StatusBadRequest)
			return
		}
		redirectBack(w, r, ar.redirectURI, url.Values{"error": {oerr.code}, "error_description": {oerr.description}, "state": {ar.state}})
		return
	}
	var user Claims
	switch {
	case r.Method == http.MethodPost:
		role := r.PostForm.Get("role")
		if !slices.Contains(signInRoles, role) {
			http.Error(w, "role must be one of "+strings.Join(signInRoles, ", "), http.StatusBadRequest)
			return
		}
		user = Claims{Email: strings.TrimSpace(r.PostForm.Get("email")), TenantID: strings.TrimSpace(r.PostForm.Get("tenant")), Role: role}
		user.Subject = strings.TrimSpace(r.PostForm.Get("sub"))
		if user.Subject == "" {
			user.Subject = "local|" + user.Email
		}
		if user.Email == "" || user.TenantID == "" {
			http.Error(w, "email and tenant are required", http.StatusBadRequest)
			return
		}
	case p.autoUser != nil:
		user = *p.autoUser
	default:
		p.signInPage(w, r.Form)
		return
	}
	code, ok := p.codes.put(grant{clientID: ar.client.ID, redirectURI: ar.redirectURI, challenge: ar.challenge, nonce: ar.nonce,
		scope: ar.scope, audience: ar.audience, user: user, expires: p.now().Add(CodeTTL)}, p.now())
	if !ok {
		redirectBack(w, r, ar.redirectURI, url.Values{"error": {"temporarily_unavailable"}, "error_description": {"too many pending sign-ins"}, "state": {ar.state}})
		return
	}
	redirectBack(w, r, ar.redirectURI, url.Values{"code": {code}, "state": {ar.state}})
}

func redirectBack(w http.ResponseWriter, r *http.Request, redirectURI string, params url.Values) {
	u, _ := url.Parse(redirectURI) // allowlisted, so it parses
	q := u.Query()
	for k, v := range params {
		if len(v) == 1 && v[0] == "" && k == "state" {
			continue
		}
		q[k] = v
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

var signInTemplate = template.Must(template.New("signin").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · local IdP</title>
<style>body{font:16px system-ui,sans-serif;max-width:24rem;margin:4rem auto}label{display:block;margin:.6rem 0}input,select{width:100%;padding:.3rem}button{margin-top:1rem;padding:.4rem 1rem}</style>
</head><body>
<h1>Sign in</h1>
<p>Local identity provider: pick who you are. Anyone can be anyone here.</p>
<form method="post" action="authorize">
{{range $k, $vs := .Params}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">{{end}}{{end}}
<label>Email <input name="email" type="email" value="user@example.com" required></label>
<label>User id <input name="sub" value="" placeholder="local|email"></label>
<label>Tenant <input name="tenant" value="local" required></label>
<label>Role <select name="role">{{range .Roles}}<option{{if eq . "developer"}} selected{{end}}>{{.}}</option>{{end}}</select></label>
<button type="submit">Continue</button>
</form></body></html>`))

func (p *IdP) signInPage(w http.ResponseWriter, params url.Values) {
	keep := url.Values{}
	for k, v := range params {
		switch k {
		case "email", "sub", "tenant", "role":
		default:
			keep[k] = v
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	_ = signInTemplate.Execute(w, map[string]any{"Params": keep, "Roles": signInRoles})
}

// token is the token endpoint: authorization_code with PKCE, and
// refresh_token with rotation. It answers the SPA cross-origin, so it
// speaks CORS to the origins of the registered callback URLs.
func (p *IdP) token(w http.ResponseWriter, r *http.Request) {
	if origin := r.Header.Get("Origin"); origin != "" && p.allowedOrigin(origin) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Vary", "Origin")
		h.Set("Access-Control-Allow-Methods", "POST")
		h.Set("Access-Control-Allow-Headers", "Content-Type, Auth0-Client")
		h.Set("Access-Control-Max-Age", "600")
	}
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	form, err := tokenForm(w, r)
	if err != nil {
		tokenError(w, http.StatusBadRequest, &oauthError{"invalid_request", err.Error()})
		return
	}
	var g grant
	var oerr *oauthError
	switch form.Get("grant_type") {
	case "authorization_code":
		g, oerr = p.redeemCode(form)
	case "refresh_token":
		g, oerr = p.redeemRefresh(form)
	default:
		oerr = &oauthError{"unsupported_grant_type", "grant_type must be authorization_code or refresh_token"}
	}
	if oerr != nil {
		status := http.StatusBadRequest
		if oerr.code == "invalid_client" {
			status = http.StatusUnauthorized
		}
		tokenError(w, status, oerr)
		return
	}
	resp, err := p.issue(g)
	if err != nil {
		tokenError(w, http.StatusServiceUnavailable, &oauthError{"temporarily_unavailable", err.Error()})
		return
	}
	writeJSON(w, resp)
}

// tokenForm reads the token request, which the SDK sends as a form or (in
// older versions) as JSON.
func tokenForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			return nil, err
		}
		v := url.Values{}
		for k, x := range m {
			if s, ok := x.(string); ok {
				v.Set(k, s)
			}
		}
		return v, nil
	}
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	return r.PostForm, nil
}

func (p *IdP) redeemCode(form url.Values) (grant, *oauthError) {
	// Taken before any check: a code is single-use even when the exchange
	// fails, so a stolen code cannot be tried against many verifiers.
	g, ok := p.codes.take(form.Get("code"), p.now())
	switch {
	case !ok:
		return g, &oauthError{"invalid_grant", "the code is unknown, expired or already used"}
	case form.Get("client_id") != g.clientID:
		return g, &oauthError{"invalid_grant", "the code was issued to another client"}
	case form.Get("redirect_uri") != g.redirectURI:
		return g, &oauthError{"invalid_grant", "redirect_uri differs from the authorization request's"}
	}
	verifier := form.Get("code_verifier")
	sum := sha256.Sum256([]byte(verifier))
	if len(verifier) < 43 || len(verifier) > 128 ||
		subtle.ConstantTimeCompare([]byte(b64.EncodeToString(sum[:])), []byte(g.challenge)) != 1 {
		return g, &oauthError{"invalid_grant", "code_verifier does not match the code_challenge"}
	}
	return g, nil
}

func (p *IdP) redeemRefresh(form url.Values) (grant, *oauthError) {
	g, ok := p.refresh.take(form.Get("refresh_token"), p.now())
	switch {
	case !ok:
		return g, &oauthError{"invalid_grant", "the refresh token is unknown, expired or already used"}
	case form.Get("client_id") != g.clientID:
		return g, &oauthError{"invalid_grant", "the refresh token was issued to another client"}
	}
	g.nonce = "" // a refreshed id_token answers no authorization request
	return g, nil
}

// issue mints the access token (for the API audience, as Auth0 shapes it),
// the id_token (for the client) and, with offline_access, a rotated
// refresh token.
func (p *IdP) issue(g grant) (map[string]any, error) {
	user := g.user
	user.Audience = g.audience
	user.ExpiresIn = accessTokenTTL
	user.Extra = map[string]any{"azp": g.clientID, "scope": g.scope}
	access, err := p.Mint(user)
	if err != nil {
		return nil, err
	}
	now := p.now()
	idClaims := map[string]any{"iss": p.Issuer(), "aud": g.clientID, "sub": user.Subject, "iat": now.Unix(),
		"exp": now.Add(10 * time.Hour).Unix(), "email": user.Email, "name": user.Email, "azp": g.clientID}
	if g.nonce != "" {
		idClaims["nonce"] = g.nonce
	}
	if user.TenantID != "" {
		idClaims[TenantClaim] = user.TenantID
	}
	idToken, err := p.MintWith(nil, idClaims, SignRS256)
	if err != nil {
		return nil, err
	}
	resp := map[string]any{"access_token": access, "id_token": idToken, "token_type": "Bearer",
		"expires_in": int(accessTokenTTL / time.Second), "scope": g.scope}
	if slices.Contains(strings.Fields(g.scope), "offline_access") {
		g.challenge = ""
		g.expires = now.Add(RefreshTTL)
		rt, ok := p.refresh.put(g, now)
		if !ok {
			return nil, &oauthError{"temporarily_unavailable", "too many refresh tokens"}
		}
		resp["refresh_token"] = rt
	}
	return resp, nil
}

func tokenError(w http.ResponseWriter, status int, e *oauthError) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": e.code, "error_description": e.description})
}

func (p *IdP) allowedOrigin(origin string) bool {
	for _, c := range p.clients {
		if p.clientOrigin(c, origin) {
			return true
		}
	}
	return false
}

// logout ends nothing (the IdP keeps no sign-in session) and sends the
// browser back to returnTo (Auth0) or post_logout_redirect_uri (OIDC) when
// it is on an allowed origin of the client.
func (p *IdP) logout(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	to := q.Get("returnTo")
	if to == "" {
		to = q.Get("post_logout_redirect_uri")
	}
	if to == "" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("signed out\n"))
		return
	}
	u, err := url.Parse(to)
	c, known := p.clients[q.Get("client_id")]
	if err != nil || !known || !p.clientOrigin(c, u.Scheme+"://"+u.Host) {
		http.Error(w, "returnTo is not an allowed logout URL of this client", http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, to, http.StatusFound)
}

func (p *IdP) clientOrigin(c Client, origin string) bool {
	for _, ru := range c.RedirectURIs {
		if u, err := url.Parse(ru); err == nil && u.Scheme+"://"+u.Host == origin {
			return true
		}
	}
	return false
}
