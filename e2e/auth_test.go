package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/diminuendo/diminuendo/adapters/auth/idp"
	"github.com/diminuendo/diminuendo/app/config"
)

// A valid token is accepted four ways: the authenticate message, the
// Authorization header on the upgrade, a subprotocol on the upgrade (what a
// browser can send), and REST's bearer header. All report the same identity.
func TestAuthValidTokenAccepted(t *testing.T) {
	g, p := startAuthGateway(t, nil)
	alice := user{"alice", "acme", "developer"}
	tok := mint(t, p, alice.claims())
	want := map[string]any{
		"userId": "alice", "email": "alice@example.com", "tenantId": "acme", "role": "developer",
		"permissions": []any{"sessions.create", "sessions.read", "sessions.write", "projects.create", "members.read"},
	}

	c, a := g.dialAndAuthenticate(t, tok)
	if got := a["identity"]; !reflect.DeepEqual(got, want) {
		t.Fatalf("authenticate message: identity %v, want %v", got, want)
	}
	if l := c.call("l1", map[string]any{"type": "list_sessions"}); l["type"] != "session_list" {
		t.Fatalf("list after authenticate: %v", l)
	}

	h, a := g.dialWithToken(t, tok)
	if got := a["identity"]; !reflect.DeepEqual(got, want) {
		t.Fatalf("Authorization header: identity %v, want %v", got, want)
	}
	if _, ok := a["requestId"]; ok {
		t.Fatalf("unprompted authenticated carries a requestId: %v", a)
	}
	if l := h.call("l2", map[string]any{"type": "list_sessions"}); l["type"] != "session_list" {
		t.Fatalf("list after header auth: %v", l)
	}

	// The token as a subprotocol, beside the one the server selects: never
	// the token's, which is not echoed.
	for _, selected := range []string{"diminuendo.v1", "diminuendo.v1.batch"} {
		ws, resp, err := g.tryDialFrom("", "", tokenProtocol(tok, selected))
		if err != nil {
			t.Fatalf("upgrade with the token as a subprotocol beside %s: %v", selected, err)
		}
		t.Cleanup(func() { _ = ws.Close() })
		if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != selected || ws.Subprotocol() != selected {
			t.Fatalf("selected subprotocol %q, want %q", got, selected)
		}
		// The kit's client splits a batched frame into its messages.
		p := &client{t: t, c: ws, batch: selected == "diminuendo.v1.batch"}
		p.expect("welcome")
		p.expect("connected")
		if a := p.expect("authenticated"); !reflect.DeepEqual(a["identity"], want) {
			t.Fatalf("subprotocol beside %s: identity %v, want %v", selected, a["identity"], want)
		}
		if l := p.call("l3", map[string]any{"type": "list_sessions"}); l["type"] != "session_list" {
			t.Fatalf("list after subprotocol auth: %v", l)
		}
	}

	r := g.rest(t, "GET", "/api/me", tok, nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET /api/me: %d %s", r.status, r.body)
	}
	var me map[string]any
	if err := json.Unmarshal(r.body, &me); err != nil || !reflect.DeepEqual(me, want) {
		t.Fatalf("GET /api/me: %s, want %v", r.body, want)
	}

	// The scheme name is case-insensitive (RFC 6750).
	lower := http.Header{"Authorization": {"bearer " + tok}}
	if r := g.restFrom(t, "", "GET", "/api/me", "", nil, lower); r.status != http.StatusOK {
		t.Fatalf("lower-case bearer over REST: %d %s", r.status, r.body)
	}
	l := g.dialFrom(t, "", lower)
	l.expect("welcome")
	l.expect("connected")
	l.expect("authenticated")

	// Basic credentials (a browser attaches those it cached for a proxy)
	// are not ours: the socket opens unauthenticated and authenticate works.
	b := g.dialFrom(t, "", http.Header{"Authorization": {"Basic YWxpY2U6cHc="}})
	b.expect("welcome")
	b.expect("connected")
	if e := b.call("before", map[string]any{"type": "list_sessions"}); e["code"] != "AUTH_REQUIRED" {
		t.Fatalf("Basic header authenticated the socket: %v", e)
	}
	b.authenticate(tok, "after-basic", "authenticated")
}

// hostile is a token the gateway must refuse, with the code it must give.
type hostile struct {
	name  string
	token func(t *testing.T, p *idp.IdP) string
	code  string
}

func hostileTokens() []hostile {
	alice := user{"alice", "acme", "developer"}
	signed := func(edit func(c *idp.Claims)) func(*testing.T, *idp.IdP) string {
		return func(t *testing.T, p *idp.IdP) string {
			c := alice.claims()
			edit(&c)
			return mint(t, p, c)
		}
	}
	with := func(header map[string]any, s idp.Signer) func(*testing.T, *idp.IdP) string {
		return func(t *testing.T, p *idp.IdP) string {
			tok, err := p.MintWith(header, p.Payload(alice.claims()), s)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
	}
	return []hostile{
		// Well past the verifier's 30 s of clock skew.
		{"expired", signed(func(c *idp.Claims) { c.ExpiresIn = -5 * time.Minute }), "TOKEN_EXPIRED"},
		{"not yet valid", signed(func(c *idp.Claims) { c.NotBefore = time.Now().Add(5 * time.Minute) }), "AUTH_FAILED"},
		{"wrong issuer", signed(func(c *idp.Claims) { c.Extra = map[string]any{"iss": "https://evil.example.com/"} }), "AUTH_FAILED"},
		{"wrong audience", signed(func(c *idp.Claims) { c.Audience = "some-other-api" }), "AUTH_FAILED"},
		{"missing tenant claim", signed(func(c *idp.Claims) { c.TenantID = "" }), "AUTH_FAILED"},
		{"missing exp", signed(func(c *idp.Claims) { c.Extra = map[string]any{"exp": nil} }), "AUTH_FAILED"},
		{"alg none", with(nil, idp.SignNone), "AUTH_FAILED"},
		{"HS256 keyed with the public key", with(nil, idp.SignHS256PublicKey), "AUTH_FAILED"},
		{"foreign key under the published kid", func(t *testing.T, p *idp.IdP) string {
			return with(map[string]any{"kid": p.KeyID()}, idp.SignForeignRS256)(t, p)
		}, "AUTH_FAILED"},
		{"tampered payload", func(t *testing.T, p *idp.IdP) string {
			tok, err := idp.Tamper(mint(t, p, alice.claims()), func(m map[string]any) { m[idp.RoleClaim] = "owner" })
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}, "AUTH_FAILED"},
		{"garbage", func(*testing.T, *idp.IdP) string { return "not-a-jwt" }, "AUTH_FAILED"},
	}
}

// Every hostile token is refused with its code on all three paths: an
// authenticate message (the connection survives every refusal), the
// upgrade's Authorization header (HTTP 401 before any WebSocket), and REST
// (401 with the code in the body). No refusal, and no log line, holds the token.
func TestAuthRejectsHostileTokens(t *testing.T) {
	g, p := startAuthGateway(t, nil)
	// One connection takes every bad authenticate: none of them closes it.
	c := g.dialFrom(t, "", nil)
	c.expect("welcome")
	c.expect("connected")
	var tokens []string
	for i, h := range hostileTokens() {
		t.Run(h.name, func(t *testing.T) {
			c.t = t
			tok := h.token(t, p)
			tokens = append(tokens, tok)
			rid := "bad-" + string(rune('a'+i))

			e := c.authenticate(tok, rid, "error")
			if e["code"] != h.code || e["message"] == "" {
				t.Errorf("authenticate message: %v, want %s", e, h.code)
			}
			requireNoToken(t, "error frame", mustJSON(t, e), tok)
			c.alive("alive-" + rid)

			ws, resp, err := g.tryDialFrom("", "", bearer(tok))
			if err == nil {
				_ = ws.Close()
				t.Fatalf("upgrade with the token in the Authorization header was accepted")
			}
			r := refusedBody(t, resp)
			if r.status != http.StatusUnauthorized || r.errCode() != h.code {
				t.Errorf("upgrade header: %d %s, want 401 %s", r.status, r.body, h.code)
			}
			requireNoToken(t, "refused upgrade", string(r.body), tok)

			ws, resp, err = g.tryDialFrom("", "", tokenProtocol(tok, "diminuendo.v1"))
			if err == nil {
				_ = ws.Close()
				t.Fatalf("upgrade with the token as a subprotocol was accepted")
			}
			r = refusedBody(t, resp)
			if r.status != http.StatusUnauthorized || r.errCode() != h.code {
				t.Errorf("upgrade subprotocol: %d %s, want 401 %s", r.status, r.body, h.code)
			}
			requireNoToken(t, "refused upgrade", string(r.body), tok)
			requireNoToken(t, "refused upgrade's headers", fmt.Sprint(resp.Header), tok)

			r = g.rest(t, "GET", "/api/me", tok, nil)
			if r.status != http.StatusUnauthorized || r.errCode() != h.code {
				t.Errorf("GET /api/me: %d %s, want 401 %s", r.status, r.body, h.code)
			}
			requireNoToken(t, "REST error body", string(r.body), tok)
		})
	}
	c.t = t
	// Still unauthenticated after all that, and still usable.
	if e := c.call("after", map[string]any{"type": "list_sessions"}); e["code"] != "AUTH_REQUIRED" {
		t.Fatalf("list before authenticating: %v", e)
	}
	a := c.authenticate(mint(t, p, user{"alice", "acme", "developer"}.claims()), "good", "authenticated")
	if a["identity"].(map[string]any)["userId"] != "alice" {
		t.Fatalf("authenticate after refusals: %v", a)
	}
	logs := g.logs.String()
	for _, tok := range tokens {
		requireNoToken(t, "the gateway's log", logs, tok)
	}
}

// A token whose kid the IdP does not publish costs exactly one JWKS
// refetch, counted at the IdP, and is then refused; a second unknown kid
// right after costs none (refetches are rate limited).
func TestAuthUnknownKidRefetchesOnceThenRejects(t *testing.T) {
	g, p := startAuthGateway(t, nil)
	alice := user{"alice", "acme", "developer"}
	// Warm the key cache with a good token.
	g.dialAndAuthenticate(t, mint(t, p, alice.claims()))
	base := p.JWKSFetches()
	if base < 1 {
		t.Fatalf("no JWKS fetch after a good token")
	}

	unknown := func(kid string) string {
		tok, err := p.MintWith(map[string]any{"kid": kid}, p.Payload(alice.claims()), idp.SignRS256)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	c := g.dialFrom(t, "", nil)
	c.expect("welcome")
	c.expect("connected")
	if e := c.authenticate(unknown("kid-nobody-published"), "k1", "error"); e["code"] != "AUTH_FAILED" {
		t.Fatalf("unknown kid: %v", e)
	}
	if got := p.JWKSFetches() - base; got != 1 {
		t.Fatalf("unknown kid caused %d JWKS fetches, want exactly 1", got)
	}
	if r := g.rest(t, "GET", "/api/me", unknown("another-unknown-kid"), nil); r.status != 401 || r.errCode() != "AUTH_FAILED" {
		t.Fatalf("unknown kid over REST: %d %s", r.status, r.body)
	}
	if got := p.JWKSFetches() - base; got != 1 {
		t.Fatalf("a second unknown kid within the refetch interval fetched again (%d fetches)", got)
	}
	c.alive("still-open")
}

// Tokens in the query string are refused before anything else: /ws with
// ?token= gets no upgrade, REST with ?access_token= gets 401, even when the
// token is valid.
func TestAuthQueryStringTokenRefused(t *testing.T) {
	g, p := startAuthGateway(t, nil)
	tok := mint(t, p, user{"alice", "acme", "developer"}.claims())
	for _, q := range []string{"?token=", "?access_token=", "?jwt="} {
		ws, resp, err := g.tryDialFrom("", q+tok, nil)
		if err == nil {
			_ = ws.Close()
			t.Fatalf("/ws%s… was upgraded", q)
		}
		r := refusedBody(t, resp)
		if r.status != http.StatusUnauthorized || r.errCode() != "AUTH_FAILED" {
			t.Errorf("/ws%s…: %d %s, want 401 AUTH_FAILED", q, r.status, r.body)
		}
		requireNoToken(t, "refused upgrade", string(r.body), tok)
	}
	for _, q := range []string{"?access_token=", "?token="} {
		r := g.rest(t, "GET", "/api/me"+q+tok, "", nil)
		if r.status != http.StatusUnauthorized || r.errCode() != "AUTH_FAILED" {
			t.Errorf("/api/me%s…: %d %s, want 401 AUTH_FAILED", q, r.status, r.body)
		}
		requireNoToken(t, "REST error body", string(r.body), tok)
		// Not even alongside a good Authorization header.
		r = g.rest(t, "GET", "/api/sessions"+q+tok, tok, nil)
		if r.status != http.StatusUnauthorized || r.errCode() != "AUTH_FAILED" {
			t.Errorf("/api/sessions%s… with a header too: %d %s", q, r.status, r.body)
		}
	}
	requireNoToken(t, "the gateway's log", g.logs.String(), tok)
}

// tokenProtocol is the Sec-WebSocket-Protocol of a browser that sends its
// token on the upgrade: the token's subprotocol and the others named, in one
// comma-separated line as browsers send it.
func tokenProtocol(token string, others ...string) http.Header {
	return http.Header{"Sec-WebSocket-Protocol": {strings.Join(append([]string{"diminuendo.v1.bearer." + token}, others...), ", ")}}
}

// A token subprotocol needs a subprotocol the server can select beside it
// (a browser fails an upgrade that selects none of those it named), comes
// once, and not together with an Authorization header: each is refused
// before the upgrade with 400 INVALID_MESSAGE, and none counts as a failed
// authentication. The refusals hold no token.
func TestAuthTokenProtocolRules(t *testing.T) {
	g, p := startAuthGateway(t, nil)
	tok := mint(t, p, user{"alice", "acme", "developer"}.claims())
	other := mint(t, p, user{"bob", "acme", "developer"}.claims())
	withHeader := tokenProtocol(tok, "diminuendo.v1")
	withHeader.Set("Authorization", "Bearer "+tok)
	for _, c := range []struct {
		name   string
		header http.Header
	}{
		{"alone", tokenProtocol(tok)},
		{"beside an unknown subprotocol", tokenProtocol(tok, "chat")},
		{"twice", tokenProtocol(tok, "diminuendo.v1.bearer."+other, "diminuendo.v1")},
		{"with an Authorization header", withHeader},
	} {
		ws, resp, err := g.tryDialFrom("", "", c.header)
		if err == nil {
			_ = ws.Close()
			t.Fatalf("%s: upgraded", c.name)
		}
		r := refusedBody(t, resp)
		if r.status != http.StatusBadRequest || r.errCode() != "INVALID_MESSAGE" || r.errMessage() == "" {
			t.Errorf("%s: %d %s, want 400 INVALID_MESSAGE", c.name, r.status, r.body)
		}
		requireNoToken(t, c.name, string(r.body), tok)
	}
	// Twelve refusals later a good token still passes: none was counted
	// as a failed authentication.
	for range 12 {
		if ws, _, err := g.tryDialFrom("", "", tokenProtocol(tok)); err == nil {
			_ = ws.Close()
		}
	}
	if _, a := g.dialWithToken(t, tok); a["identity"].(map[string]any)["userId"] != "alice" {
		t.Fatalf("header auth after the refusals: %v", a)
	}
	requireNoToken(t, "the gateway's log", g.logs.String(), tok)
}

// REST without credentials, or with another scheme, is AUTH_REQUIRED; an
// unauthenticated caller learns nothing about request shapes (auth runs
// before validation).
func TestAuthRESTNeedsBearer(t *testing.T) {
	g, _ := startAuthGateway(t, nil)
	for _, tc := range []struct {
		name, method, path string
		header             http.Header
		body               any
	}{
		{"no header", "GET", "/api/me", nil, nil},
		{"basic scheme", "GET", "/api/sessions", http.Header{"Authorization": {"Basic YWxpY2U6cHc="}}, nil},
		{"empty bearer", "GET", "/api/sessions", http.Header{"Authorization": {"Bearer "}}, nil},
		{"invalid body", "POST", "/api/sessions", nil, []byte(`{"agentType": 42}`)},
		{"missing session", "GET", "/api/sessions/ses_whatever", nil, nil},
	} {
		r := g.restFrom(t, "", tc.method, tc.path, "", tc.body, tc.header)
		if r.status != http.StatusUnauthorized || r.errCode() != "AUTH_REQUIRED" {
			t.Errorf("%s: %d %s, want 401 AUTH_REQUIRED", tc.name, r.status, r.body)
		}
	}
	if r := g.rest(t, "GET", "/api/health", "", nil); r.status != http.StatusOK {
		t.Errorf("health needs no token: %d %s", r.status, r.body)
	}
}

// Before authenticating, only authenticate and ping are served; a client
// that never authenticates is closed with 4001 at AUTH_TIMEOUT.
func TestAuthDeadlineAndPreAuthMessages(t *testing.T) {
	const timeout = 800 * time.Millisecond
	g, p := startAuthGateway(t, func(c *config.Config) { c.AuthTimeout = timeout })
	c := g.dialFrom(t, "", nil)
	c.expect("welcome")
	start := time.Now()
	c.expect("connected")
	// Well-formed messages, each with its own fields.
	fields := map[string]map[string]any{
		"list_sessions":  {},
		"create_session": {"agentType": "echo"},
		"join_session":   {"sessionId": "ses_x"},
		"run_turn":       {"sessionId": "ses_x", "text": "x"},
		"get_events":     {"sessionId": "ses_x", "afterSeq": 0},
		"delete_session": {"sessionId": "ses_x"},
	}
	for _, typ := range []string{"list_sessions", "create_session", "join_session", "run_turn", "get_events", "delete_session"} {
		msg := map[string]any{"type": typ}
		for k, v := range fields[typ] {
			msg[k] = v
		}
		e := c.call("pre-"+typ, msg)
		if e["type"] != "error" || e["code"] != "AUTH_REQUIRED" {
			t.Fatalf("%s before authenticating: %v", typ, e)
		}
	}
	c.alive("pre-ping")
	// A refused token does not extend the deadline or close the connection.
	expired := mint(t, p, idp.Claims{Subject: "alice", TenantID: "acme", ExpiresIn: -time.Hour})
	if e := c.authenticate(expired, "pre-auth", "error"); e["code"] != "TOKEN_EXPIRED" {
		t.Fatalf("expired authenticate: %v", e)
	}
	code, frames := c.expectClose(timeout + 3*time.Second)
	if code != 4001 {
		t.Fatalf("close %d after %v, want 4001", code, frames)
	}
	if el := time.Since(start); el < timeout-100*time.Millisecond {
		t.Fatalf("closed after %s, before the %s deadline", el, timeout)
	}
	for _, f := range frames {
		if f["type"] != "error" && f["type"] != "heartbeat" {
			t.Fatalf("unexpected frame before the close: %v", f)
		}
	}

	// Authenticating in time keeps the connection past the deadline.
	ok, _ := g.dialAndAuthenticate(t, mint(t, p, user{"alice", "acme", "developer"}.claims()))
	time.Sleep(timeout + 300*time.Millisecond)
	ok.alive("after-deadline")
}

// On a live socket: auth_expiring arrives AUTH_EXPIRY_WARNING before exp; a
// fresh token of the same user and tenant keeps the connection past the old
// exp; a token of anyone else is refused without closing it; at the new exp
// the socket is closed with 4001. The Authorization-header path expires too.
func TestAuthTokenExpiryOnLiveSocket(t *testing.T) {
	const warn = 2 * time.Second
	g, p := startAuthGateway(t, func(c *config.Config) { c.AuthExpiryWarning = warn })
	alice := user{"alice", "acme", "developer"}
	short := func(u user, ttl time.Duration) (string, time.Time) {
		c := u.claims()
		c.ExpiresIn = ttl
		tok := mint(t, p, c)
		return tok, tokenExp(t, tok)
	}

	tok1, exp1 := short(alice, 3*time.Second)
	c, _ := g.dialAndAuthenticate(t, tok1)
	hdrTok, hdrExp := short(alice, 3*time.Second)
	h, _ := g.dialWithToken(t, hdrTok)

	w := c.waitFor("auth_expiring", func(m map[string]any) bool { return m["type"] == "auth_expiring" })
	if got := int64(w["expiresAt"].(float64)); got != exp1.UnixMilli() {
		t.Fatalf("auth_expiring expiresAt %d, want %d", got, exp1.UnixMilli())
	}
	if !time.Now().Before(exp1) {
		t.Fatalf("auth_expiring arrived at %s, not before exp %s", time.Now(), exp1)
	}

	tok2, exp2 := short(alice, 5*time.Second)
	if a := c.authenticate(tok2, "refresh", "authenticated"); a["identity"].(map[string]any)["userId"] != "alice" {
		t.Fatalf("refresh: %v", a)
	}
	for _, other := range []user{{"bob", "acme", "developer"}, {"alice", "globex", "developer"}} {
		if e := c.authenticate(mint(t, p, other.claims()), "switch-"+other.sub+"-"+other.tenant, "error"); e["code"] != "AUTH_FAILED" {
			t.Fatalf("re-authenticate as %v: %v", other, e)
		}
	}
	c.alive("kept")

	// Past the first token's exp, the refreshed connection is still open.
	time.Sleep(time.Until(exp1) + 500*time.Millisecond)
	c.alive("past-first-exp")
	if e := c.call("whoami", map[string]any{"type": "list_sessions"}); e["type"] != "session_list" {
		t.Fatalf("list after refresh: %v", e)
	}

	w = c.waitFor("second auth_expiring", func(m map[string]any) bool { return m["type"] == "auth_expiring" })
	if got := int64(w["expiresAt"].(float64)); got != exp2.UnixMilli() {
		t.Fatalf("second auth_expiring expiresAt %d, want %d", got, exp2.UnixMilli())
	}
	code, frames := c.expectClose(max(time.Until(exp2), 0) + 3*time.Second)
	if code != 4001 {
		t.Fatalf("close %d at exp, want 4001 (frames %v)", code, frames)
	}
	if now := time.Now(); now.Before(exp2.Add(-100 * time.Millisecond)) {
		t.Fatalf("closed at %s, before exp %s", now, exp2)
	}
	if len(frames) == 0 || frames[len(frames)-1]["code"] != "TOKEN_EXPIRED" {
		t.Fatalf("no TOKEN_EXPIRED before the close: %v", frames)
	}

	// The header-authenticated connection got the same treatment.
	code, frames = h.expectClose(max(time.Until(hdrExp), 0) + 3*time.Second)
	if code != 4001 {
		t.Fatalf("header connection: close %d, want 4001 (frames %v)", code, frames)
	}
	if len(frames) < 1 || frames[0]["type"] != "auth_expiring" || int64(frames[0]["expiresAt"].(float64)) != hdrExp.UnixMilli() {
		t.Fatalf("header connection: no auth_expiring before the close: %v", frames)
	}
}

// A flood of bad authenticate messages from one address is cut off with
// AUTH_RATE_LIMITED and retryAfterMs (on WS and REST alike), while a
// client from another address authenticates normally and gets plain
// AUTH_FAILED for its own bad token.
func TestAuthFailuresRateLimitedPerAddress(t *testing.T) {
	g, p := startAuthGateway(t, func(c *config.Config) {
		c.AuthFailuresPerMinute, c.AuthFailureBurst = 10, 5 // the defaults
	})
	good := mint(t, p, user{"alice", "acme", "developer"}.claims())
	bad := mint(t, p, idp.Claims{Subject: "mallory", TenantID: "acme", Audience: "elsewhere"})

	m := g.dialFrom(t, "127.0.0.1", nil)
	m.expect("welcome")
	m.expect("connected")
	var limited map[string]any
	failed := 0
	for i := 0; i < 20 && limited == nil; i++ {
		e := m.authenticate(bad, "flood", "error")
		switch e["code"] {
		case "AUTH_FAILED":
			failed++
		case "AUTH_RATE_LIMITED":
			limited = e
		default:
			t.Fatalf("flood: %v", e)
		}
	}
	if limited == nil || failed != 5 {
		t.Fatalf("after %d AUTH_FAILED no AUTH_RATE_LIMITED (burst 5)", failed)
	}
	if ms, _ := limited["retryAfterMs"].(float64); ms <= 0 || ms > 60_000 {
		t.Fatalf("AUTH_RATE_LIMITED without a sane retryAfterMs: %v", limited)
	}
	m.alive("flooder-still-connected")
	// The same address over REST is limited too.
	r := g.restFrom(t, "127.0.0.1", "GET", "/api/me", bad, nil, nil)
	if r.status != http.StatusTooManyRequests || r.errCode() != "AUTH_RATE_LIMITED" || r.header.Get("Retry-After") == "" ||
		!strings.Contains(string(r.body), `"retryAfterMs"`) {
		t.Fatalf("REST from the flooding address: %d %v %s", r.status, r.header, r.body)
	}
	ws, resp, err := g.tryDialFrom("127.0.0.1", "", bearer(bad))
	if err == nil {
		_ = ws.Close()
		t.Fatal("upgrade from the flooding address was accepted")
	}
	if rr := refusedBody(t, resp); rr.status != http.StatusTooManyRequests || rr.errCode() != "AUTH_RATE_LIMITED" || rr.header.Get("Retry-After") == "" {
		t.Fatalf("upgrade from the flooding address: %d %s", rr.status, rr.body)
	}

	// Another address is unaffected.
	o := g.dialFrom(t, "127.0.0.2", nil)
	o.expect("welcome")
	o.expect("connected")
	if e := o.authenticate(bad, "other-bad", "error"); e["code"] != "AUTH_FAILED" {
		t.Fatalf("bad token from another address: %v", e)
	}
	o.authenticate(good, "other-good", "authenticated")
	if r := g.restFrom(t, "127.0.0.2", "GET", "/api/me", good, nil, nil); r.status != http.StatusOK {
		t.Fatalf("REST from another address: %d %s", r.status, r.body)
	}
	h := g.dialFrom(t, "127.0.0.2", bearer(good))
	h.expect("welcome")
	h.expect("connected")
	h.expect("authenticated")
}

// tokenExp reads exp from a token's payload.
func tokenExp(t *testing.T, tok string) time.Time {
	t.Helper()
	parts := strings.Split(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Exp int64 `json:"exp"`
	}
	if err := json.Unmarshal(raw, &c); err != nil || c.Exp == 0 {
		t.Fatalf("no exp in %s", raw)
	}
	return time.Unix(c.Exp, 0)
}

// A token a few seconds past exp, inside the verifier's clock skew, is
// expired on both transports: skew excuses nbf and iat, never exp. The
// socket refuses it and stays open.
func TestAuthExpiredTokenRefusedOnBothTransports(t *testing.T) {
	g, p := startAuthGateway(t, nil)
	c := user{"alice", "acme", "developer"}.claims()
	c.ExpiresIn = -10 * time.Second
	tok := mint(t, p, c)

	if r := g.rest(t, "GET", "/api/me", tok, nil); r.status != http.StatusUnauthorized || r.errCode() != "TOKEN_EXPIRED" {
		t.Fatalf("REST ten seconds past exp: %d %s", r.status, r.body)
	}
	ws := g.dialFrom(t, "", nil)
	ws.expect("welcome")
	ws.expect("connected")
	if e := ws.authenticate(tok, "grace", "error"); e["code"] != "TOKEN_EXPIRED" {
		t.Fatalf("authenticate past exp: %v", e)
	}
	ws.alive("open")
	conn, resp, err := g.tryDialFrom("", "", bearer(tok))
	if err == nil {
		_ = conn.Close()
		t.Fatal("upgrade with a token past exp was accepted")
	}
	if r := refusedBody(t, resp); r.status != http.StatusUnauthorized || r.errCode() != "TOKEN_EXPIRED" {
		t.Fatalf("upgrade past exp: %d %s", r.status, r.body)
	}
}

// An event stream does not outlive the token that opened it: at exp it
// ends with a TOKEN_EXPIRED error event (the client reconnects with a fresh
// token and Last-Event-ID, losing nothing). A token already past exp, even
// by less than the verifier's clock skew, opens no stream.
func TestAuthSSEStreamEndsAtTokenExpiry(t *testing.T) {
	g, p := startAuthGateway(t, nil)
	alice := user{"alice", "acme", "developer"}
	r := g.rest(t, "POST", "/api/sessions", mint(t, p, alice.claims()), map[string]any{"agentType": "echo"})
	var meta map[string]any
	mustUnmarshal(t, r.body, &meta)
	sid, _ := meta["id"].(string)
	if r.status != http.StatusCreated || sid == "" {
		t.Fatalf("create: %d %s", r.status, r.body)
	}

	c := alice.claims()
	c.ExpiresIn = 3 * time.Second
	tok := mint(t, p, c)
	exp := tokenExp(t, tok)
	s := g.openSSE(t, sid, "", bearer(tok))
	if ev := s.next(); ev.Data["type"] != "state_snapshot" {
		t.Fatalf("first event: %+v", ev)
	}
	var last sseEvent
	for {
		ev, ok := s.nextOrEnd(max(time.Until(exp), 0) + 3*time.Second)
		if !ok {
			break
		}
		last = ev
	}
	if time.Now().Before(exp.Add(-100 * time.Millisecond)) {
		t.Fatalf("the stream ended at %s, before exp %s", time.Now(), exp)
	}
	if last.Data["type"] != "error" || last.Data["code"] != "TOKEN_EXPIRED" {
		t.Fatalf("last event before the end: %+v", last)
	}
	requireNoToken(t, "stream", mustJSON(t, last.Data), tok)

	c.ExpiresIn = -10 * time.Second
	stale := mint(t, p, c)
	resp, cancel := g.getSSE(t, sid, "", bearer(stale))
	defer cancel()
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if rr := (restResp{status: resp.StatusCode, body: body}); rr.status != http.StatusUnauthorized || rr.errCode() != "TOKEN_EXPIRED" {
		t.Fatalf("stream with a token past exp: %d %s", rr.status, rr.body)
	}
}
