package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gorilla/websocket"
	"go.uber.org/fx"

	"github.com/diminuendo/diminuendo/adapters/auth/idp"
	"github.com/diminuendo/diminuendo/api"
	"github.com/diminuendo/diminuendo/app/config"
)

// testAudience is the API identifier the auth gateways are configured with.
const testAudience = "diminuendo-e2e"

// startAuthGateway boots the whole gateway with authentication on
// (DEV_MODE=false), trusting a real local IdP served over HTTP on loopback.
// The failed-attempt limiter is opened wide so that tests sending many bad
// tokens from 127.0.0.1 measure the verifier, not the limiter; the limiter's
// own test puts the defaults back in mutate. Every log line goes to g.logs.
func startAuthGateway(t *testing.T, mutate func(*config.Config), extra ...fx.Option) (*gateway, *idp.IdP) {
	t.Helper()
	p, err := idp.New(idp.WithAudience(testAudience))
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := p.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	logs := &lockedBuffer{}
	// Registered before the gateway's own cleanup, so it runs after the
	// gateway stopped: no log line of the whole run holds a minted token.
	t.Cleanup(func() {
		out := logs.String()
		for _, tok := range mintedBy(p) {
			requireNoToken(t, "the gateway's log", out, tok)
		}
	})
	g := startGateway(t, func(c *config.Config) {
		c.DevMode = false
		c.Auth0Domain = issuer
		c.Auth0Audience = testAudience
		c.AuthFailureBurst = 1 << 20
		c.AuthFailuresPerMinute = 1 << 20
		if mutate != nil {
			mutate(c)
		}
	}, append([]fx.Option{fx.Decorate(func() *slog.Logger {
		return slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})}, extra...)...)
	if !strings.Contains(logs.String(), "diminuendo listening") {
		t.Fatalf("the log sink caught nothing: %q", logs.String())
	}
	g.logs = logs
	return g, p
}

// minted remembers the tokens each IdP minted through mint.
var minted sync.Map // *idp.IdP → *mintedTokens

type mintedTokens struct {
	mu   sync.Mutex
	toks []string
}

func mintedBy(p *idp.IdP) []string {
	v, ok := minted.Load(p)
	if !ok {
		return nil
	}
	m := v.(*mintedTokens)
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.toks...)
}

// user describes a token's subject.
type user struct{ sub, tenant, role string }

func (u user) claims() idp.Claims {
	return idp.Claims{Subject: u.sub, Email: u.sub + "@example.com", TenantID: u.tenant, Role: u.role}
}

func mint(t *testing.T, p *idp.IdP, c idp.Claims) string {
	t.Helper()
	tok, err := p.Mint(c)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := minted.LoadOrStore(p, &mintedTokens{})
	m := v.(*mintedTokens)
	m.mu.Lock()
	m.toks = append(m.toks, tok)
	m.mu.Unlock()
	return tok
}

func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

// tryDialFrom dials /ws (plus query) from the local address from ("" for
// the system's choice) without failing the test, so refusals can be examined.
func (g *gateway) tryDialFrom(from, query string, header http.Header) (*websocket.Conn, *http.Response, error) {
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	if from != "" {
		nd := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		d.NetDialContext = nd.DialContext
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return d.DialContext(ctx, "ws://"+g.addr+"/ws"+query, header)
}

// dialFrom dials /ws from a local address and records the frames it reads.
func (g *gateway) dialFrom(t *testing.T, from string, header http.Header) *client {
	t.Helper()
	c, resp, err := g.tryDialFrom(from, "", header)
	if err != nil {
		if isAddrUnavailable(err) {
			t.Skipf("cannot dial from %s on this machine: %v", from, err)
		}
		if resp != nil {
			t.Fatalf("dial: %v (HTTP %d)", err, resp.StatusCode)
		}
		t.Fatalf("dial: %v", err)
	}
	c.SetReadLimit(16 << 20)
	t.Cleanup(func() { _ = c.Close() })
	return &client{t: t, c: c}
}

// isAddrUnavailable tells a missing loopback alias (127.0.0.2 on macOS)
// from a refusal by the gateway.
func isAddrUnavailable(err error) bool {
	return errors.Is(err, syscall.EADDRNOTAVAIL)
}

// dialWithToken dials with the token in the Authorization header; the
// connection is authenticated unprompted.
func (g *gateway) dialWithToken(t *testing.T, token string) (*client, map[string]any) {
	t.Helper()
	c := g.dialFrom(t, "", bearer(token))
	c.expect("welcome")
	c.expect("connected")
	return c, c.expect("authenticated")
}

// dialAndAuthenticate dials without credentials and sends authenticate.
func (g *gateway) dialAndAuthenticate(t *testing.T, token string) (*client, map[string]any) {
	t.Helper()
	c := g.dialFrom(t, "", nil)
	if w := c.expect("welcome"); w["requiresAuth"] != true {
		t.Fatalf("welcome outside dev mode: %v", w)
	}
	c.expect("connected")
	return c, c.authenticate(token, "auth", "authenticated")
}

// authenticate sends an authenticate message and expects typ in reply.
func (c *client) authenticate(token, requestID, typ string) map[string]any {
	c.t.Helper()
	c.send(map[string]any{"type": "authenticate", "token": token, "requestId": requestID})
	m := c.expect(typ)
	if m["requestId"] != requestID {
		c.t.Fatalf("%s without requestId %s: %v", typ, requestID, m)
	}
	return m
}

// call sends msg with requestId rid and returns the frame that answers it,
// skipping (but recording) the session events that arrive meanwhile.
func (c *client) call(rid string, msg map[string]any) map[string]any {
	c.t.Helper()
	msg["requestId"] = rid
	c.send(msg)
	for i := 0; i < 10000; i++ {
		m := c.next()
		if m["requestId"] == rid {
			return m
		}
	}
	c.t.Fatalf("no reply to %s", rid)
	return nil
}

// waitFor reads until a frame satisfies ok, failing on an error frame.
func (c *client) waitFor(what string, ok func(map[string]any) bool) map[string]any {
	c.t.Helper()
	for i := 0; i < 10000; i++ {
		m := c.next()
		if ok(m) {
			return m
		}
		if m["type"] == "error" {
			c.t.Fatalf("error while waiting for %s: %v", what, m)
		}
	}
	c.t.Fatalf("no %s in 10000 frames", what)
	return nil
}

// expectClose reads frames until the connection closes, within d, and
// returns the close code and the frames read before it.
func (c *client) expectClose(d time.Duration) (int, []map[string]any) {
	c.t.Helper()
	var frames []map[string]any
	deadline := time.Now().Add(d)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			c.t.Fatalf("connection still open after %s; read %v", d, frames)
		}
		m, err := c.read(left)
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				return ce.Code, frames
			}
			c.t.Fatalf("want a close frame, got %v after %v", err, frames)
		}
		frames = append(frames, m)
	}
}

// alive checks the connection still answers a ping.
func (c *client) alive(rid string) {
	c.t.Helper()
	if p := c.call(rid, map[string]any{"type": "ping"}); p["type"] != "pong" {
		c.t.Fatalf("ping %s: %v", rid, p)
	}
}

// restResp is one REST response, read whole.
type restResp struct {
	status int
	header http.Header
	body   []byte
}

// errCode is the code of an error body, "" when the body is not one.
func (r restResp) errCode() string {
	var b struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.body, &b)
	return b.Error.Code
}

func (r restResp) errMessage() string {
	var b struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.body, &b)
	return b.Error.Message
}

// httpClient dials from the local address from ("" for the system's choice).
func httpClient(from string) *http.Client {
	nd := &net.Dialer{Timeout: 5 * time.Second}
	if from != "" {
		nd.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	return &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{DialContext: nd.DialContext, DisableKeepAlives: true}}
}

// rest sends one request with an optional bearer token and JSON body (a
// []byte body is sent as is).
func (g *gateway) rest(t *testing.T, method, path, token string, body any) restResp {
	t.Helper()
	return g.restFrom(t, "", method, path, token, body, nil)
}

func (g *gateway) restFrom(t *testing.T, from, method, path, token string, body any, header http.Header) restResp {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, g.url(path), rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := httpClient(from).Do(req)
	if err != nil {
		if isAddrUnavailable(err) {
			t.Skipf("cannot dial from %s on this machine: %v", from, err)
		}
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		// A stream that was granted: its headers are the answer.
		return restResp{status: resp.StatusCode, header: resp.Header}
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return restResp{status: resp.StatusCode, header: resp.Header, body: b}
}

// refusedBody reads the error body of a refused WebSocket upgrade.
func refusedBody(t *testing.T, resp *http.Response) restResp {
	t.Helper()
	if resp == nil {
		t.Fatal("the upgrade was refused without an HTTP response")
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 400 {
		checkRefused(t, b)
	}
	return restResp{status: resp.StatusCode, header: resp.Header, body: b}
}

// requireNoToken fails if text holds the token or either of its signed
// parts (header.payload alone would replay nothing, but its presence means
// the token was echoed).
func requireNoToken(t *testing.T, where, text, token string) {
	t.Helper()
	if token == "" {
		return
	}
	parts := strings.Split(token, ".")
	for _, p := range append([]string{token}, parts...) {
		if len(p) >= 16 && strings.Contains(text, p) {
			t.Fatalf("%s contains the token (or a part of it): %s", where, text)
		}
	}
}

func randomSessionID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "ses_" + hex.EncodeToString(b[:])
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// restOp is one REST operation of the OpenAPI contract.
type restOp struct {
	method, path, id string
	op               *openapi3.Operation
}

func (o restOp) String() string { return o.method + " " + o.path }

// sessionRoutes lists every operation of openapi.yaml whose path takes a
// session id, DELETE last, so tests follow the contract as it grows.
func sessionRoutes(t *testing.T) []restOp {
	t.Helper()
	spec, err := api.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	var ops []restOp
	for path, item := range spec.Paths.Map() {
		if !strings.Contains(path, "{sessionId}") {
			continue
		}
		for method, op := range item.Operations() {
			ops = append(ops, restOp{method: method, path: path, id: op.OperationID, op: op})
		}
	}
	sort.Slice(ops, func(i, j int) bool {
		di, dj := ops[i].method == http.MethodDelete, ops[j].method == http.MethodDelete
		if di != dj {
			return dj
		}
		return ops[i].String() < ops[j].String()
	})
	return ops
}

// request builds a minimal valid request of o for sessionID: the path, its
// required query parameters and a body holding the required fields.
func (o restOp) request(sessionID string) (string, any) {
	path := strings.ReplaceAll(o.path, "{sessionId}", url.PathEscape(sessionID))
	q := url.Values{}
	for _, pr := range o.op.Parameters {
		p := pr.Value
		if p == nil || !p.Required {
			continue
		}
		v := fmt.Sprint(exampleOf(p.Schema))
		switch p.In {
		case "query":
			q.Set(p.Name, v)
		case "path":
			path = strings.ReplaceAll(path, "{"+p.Name+"}", url.PathEscape(v))
		}
	}
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var body any
	if rb := o.op.RequestBody; rb != nil && rb.Value != nil {
		if mt := rb.Value.Content.Get("application/json"); mt != nil {
			body = exampleOf(mt.Schema)
		}
	}
	return path, body
}

// exampleOf makes the smallest value a schema accepts (required fields
// only), good enough to get a request past validation to the handler.
func exampleOf(ref *openapi3.SchemaRef) any {
	if ref == nil || ref.Value == nil {
		return nil
	}
	s := ref.Value
	if len(s.Enum) > 0 {
		return s.Enum[0]
	}
	if s.Default != nil {
		return s.Default
	}
	switch {
	case s.Type.Is("string"):
		if s.Format == "date-time" {
			return time.Now().UTC().Format(time.RFC3339)
		}
		return strings.Repeat("x", max(1, int(s.MinLength)))
	case s.Type.Is("integer"), s.Type.Is("number"):
		if s.Min != nil {
			return *s.Min
		}
		return 1
	case s.Type.Is("boolean"):
		return false
	case s.Type.Is("array"):
		return []any{}
	default:
		m := map[string]any{}
		for _, name := range s.Required {
			m[name] = exampleOf(s.Properties[name])
		}
		// "At least one of the fields": add optional ones, by name.
		names := make([]string, 0, len(s.Properties))
		for name := range s.Properties {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if uint64(len(m)) >= s.MinProps {
				break
			}
			if _, ok := m[name]; !ok {
				m[name] = exampleOf(s.Properties[name])
			}
		}
		return m
	}
}

func mustUnmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
}
