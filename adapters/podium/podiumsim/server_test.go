package podiumsim

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/diminuendo/diminuendo/adapters/simkit"
)

const testKey = "pod_sim_key"

// client speaks to a started simulator the way any HTTP client would.
type client struct {
	t    *testing.T
	base string
	key  string
	http *http.Client
}

func startSim(t *testing.T, opts Options) (*Sim, *client) {
	t.Helper()
	if opts.APIKey == "" {
		opts.APIKey = testKey
	}
	s := New(opts)
	base, err := s.Start("127.0.0.1:0")
	require.NoError(t, err)
	assert.Equal(t, base, s.URL())
	tr := &http.Transport{}
	t.Cleanup(func() {
		s.Close()
		tr.CloseIdleConnections()
	})
	return s, &client{t: t, base: base, key: opts.APIKey, http: &http.Client{Transport: tr}}
}

// do sends a request and decodes a JSON answer into out (when non-nil).
func (c *client) do(method, path string, body any, out any) int {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(c.t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	require.NoError(c.t, err)
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.http.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	if out != nil && len(data) > 0 {
		require.NoError(c.t, json.Unmarshal(data, out), string(data))
	}
	return resp.StatusCode
}

func (c *client) create(agentType, session string) string {
	c.t.Helper()
	var out map[string]any
	require.Equal(c.t, http.StatusCreated, c.do("POST", "/api/v1/instances", map[string]any{
		"deployment_id": agentType + ":1.0.0@local", "agent_type": agentType, "tenant_id": "t", "session_id": session,
	}, &out))
	return out["instance_id"].(string)
}

func (c *client) dial(id string, after uint64) *websocket.Conn {
	c.t.Helper()
	conn, err := c.tryDial(id, after)
	require.NoError(c.t, err)
	c.t.Cleanup(func() { conn.CloseNow() })
	return conn
}

func (c *client) tryDial(id string, after uint64) (*websocket.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	h := http.Header{}
	if c.key != "" {
		h.Set("Authorization", "Bearer "+c.key)
	}
	conn, _, err := websocket.Dial(ctx, c.base+"/agent/"+id+"?after="+itoa(int(after)), &websocket.DialOptions{HTTPClient: c.http, HTTPHeader: h})
	return conn, err
}

func readFrame(t *testing.T, conn *websocket.Conn) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	typ, data, err := conn.Read(ctx)
	require.NoError(t, err)
	require.Equal(t, websocket.MessageText, typ)
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m))
	return m
}

func readUntil(t *testing.T, conn *websocket.Conn, eventType string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for {
		f := readFrame(t, conn)
		out = append(out, f)
		if f["event_type"] == eventType {
			return out
		}
	}
}

func sendCommand(t *testing.T, conn *websocket.Conn, cmd any) {
	t.Helper()
	b, err := json.Marshal(cmd)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	require.NoError(t, conn.Write(ctx, websocket.MessageText, b))
}

func TestEveryRequestNeedsTheAPIKey(t *testing.T) {
	_, c := startSim(t, Options{})
	id := c.create("echo", "s")

	anon := *c
	anon.key = ""
	var body map[string]map[string]string
	assert.Equal(t, http.StatusUnauthorized, anon.do("GET", "/api/v1/instances/"+id, nil, &body))
	assert.Equal(t, "unauthorized", body["error"]["code"])
	wrong := *c
	wrong.key = "pod_wrong"
	assert.Equal(t, http.StatusUnauthorized, wrong.do("POST", "/api/v1/instances", map[string]string{"agent_type": "echo"}, nil))
	_, err := anon.tryDial(id, 0)
	assert.Error(t, err)

	open := New(Options{})
	defer open.Close()
	base, err := open.Start("127.0.0.1:0")
	require.NoError(t, err)
	oc := &client{t: t, base: base, http: c.http}
	oc.create("echo", "s")
}

func TestInstanceRoutes(t *testing.T) {
	_, c := startSim(t, Options{})
	var created map[string]any
	require.Equal(t, http.StatusCreated, c.do("POST", "/api/v1/instances", map[string]any{
		"deployment_id": "echo:1.0.0@local", "agent_type": "echo", "tenant_id": "t", "session_id": "s",
	}, &created))
	id, _ := created["instance_id"].(string)
	assert.True(t, strings.HasPrefix(id, "inst_"))
	assert.Equal(t, "echo:1.0.0@local", created["deployment_id"])
	assert.Equal(t, "echo", created["agent_type"])
	assert.Equal(t, "running", created["status"])

	var got map[string]any
	require.Equal(t, http.StatusOK, c.do("GET", "/api/v1/instances/"+id, nil, &got))
	assert.Equal(t, id, got["instance_id"])
	assert.Equal(t, "running", got["status"])
	assert.Equal(t, 0.0, got["latest_seq"], "latest_seq is always present")

	require.Equal(t, http.StatusNoContent, c.do("DELETE", "/api/v1/instances/"+id, nil, nil))
	require.Equal(t, http.StatusOK, c.do("GET", "/api/v1/instances/"+id, nil, &got))
	assert.Equal(t, "stopped", got["status"])

	var errBody map[string]map[string]string
	assert.Equal(t, http.StatusNotFound, c.do("GET", "/api/v1/instances/inst_missing", nil, &errBody))
	assert.Equal(t, "not_found", errBody["error"]["code"])
	assert.NotEmpty(t, errBody["error"]["message"])
	assert.Equal(t, http.StatusNotFound, c.do("DELETE", "/api/v1/instances/inst_missing", nil, nil))
	assert.Equal(t, http.StatusNotFound, c.do("GET", "/api/v1/nowhere", nil, nil))

	assert.Equal(t, http.StatusBadRequest, c.do("POST", "/api/v1/instances", map[string]any{"agent_type": "nope"}, &errBody))
	assert.Equal(t, "unknown_agent_type", errBody["error"]["code"])
	assert.Equal(t, http.StatusBadRequest, c.do("POST", "/api/v1/instances", "not an object", &errBody))
	assert.Equal(t, "invalid_request", errBody["error"]["code"])
}

func TestEventsRoutePagesTheHistory(t *testing.T) {
	s, c := startSim(t, Options{})
	id := c.create("echo", "s")
	require.NoError(t, s.Engine().Command(id, Command{Type: CmdProcessMessage, Text: strings.Repeat("sixteen bytes!!!", 120)}))
	all := waitFor(t, s.Engine(), id, 0, "turn_complete")
	require.Greater(t, len(all), defaultLimit)

	var page struct {
		Events    []Frame `json:"events"`
		LatestSeq uint64  `json:"latest_seq"`
	}
	require.Equal(t, http.StatusOK, c.do("GET", "/api/v1/instances/"+id+"/events", nil, &page))
	assert.Len(t, page.Events, defaultLimit)
	assert.Equal(t, uint64(len(all)), page.LatestSeq)
	assert.Equal(t, uint64(1), page.Events[0].Seq)

	var rest struct {
		Events []json.RawMessage `json:"events"`
	}
	require.Equal(t, http.StatusOK, c.do("GET", "/api/v1/instances/"+id+"/events?after=100&limit=5000", nil, &rest))
	require.Len(t, rest.Events, len(all)-100)
	for i, raw := range rest.Events {
		want, err := json.Marshal(all[100+i])
		require.NoError(t, err)
		assert.JSONEq(t, string(want), string(raw))
	}

	var raw map[string]any
	require.Equal(t, http.StatusOK, c.do("GET", "/api/v1/instances/"+id+"/events?after="+itoa(len(all)), nil, &raw))
	assert.Equal(t, []any{}, raw["events"], "an empty page is a list, not null")

	for _, q := range []string{"?after=-1", "?after=x", "?limit=0", "?limit=abc"} {
		assert.Equal(t, http.StatusBadRequest, c.do("GET", "/api/v1/instances/"+id+"/events"+q, nil, nil), q)
	}
	assert.Equal(t, http.StatusNotFound, c.do("GET", "/api/v1/instances/inst_missing/events", nil, nil))
}

func TestFileRoutes(t *testing.T) {
	s, c := startSim(t, Options{})
	id := c.create("echo", "sess")
	s.Engine().PutFile("sess", "docs/a.txt", []byte("one"))
	s.Engine().PutFile("sess", "docs/a.txt", []byte("two"))

	var list struct{ Entries []FileEntry }
	require.Equal(t, http.StatusOK, c.do("GET", "/api/v1/instances/"+id+"/files?path=&depth=2", nil, &list))
	assert.Equal(t, []FileEntry{
		{Path: "docs", Name: "docs", Type: "dir"},
		{Path: "docs/a.txt", Name: "a.txt", Type: "file", Size: 3, Iteration: 2},
	}, list.Entries)

	var fc FileContent
	require.Equal(t, http.StatusOK, c.do("GET", "/api/v1/instances/"+id+"/files/content?path=docs/a.txt", nil, &fc))
	sum := sha256.Sum256([]byte("two"))
	assert.Equal(t, FileContent{Path: "docs/a.txt", Content: "two", Encoding: "utf-8", Size: 3, Hash: hex.EncodeToString(sum[:]), Iteration: 2}, fc)

	var hist struct {
		Path       string
		Iterations []FileIteration
	}
	require.Equal(t, http.StatusOK, c.do("GET", "/api/v1/instances/"+id+"/files/history?path=/docs/a.txt", nil, &hist))
	assert.Equal(t, "docs/a.txt", hist.Path)
	require.Len(t, hist.Iterations, 2)
	assert.Equal(t, 1, hist.Iterations[0].Iteration)

	require.Equal(t, http.StatusOK, c.do("GET", "/api/v1/instances/"+id+"/files/at?path=docs/a.txt&iteration=1", nil, &fc))
	assert.Equal(t, "one", fc.Content)
	assert.Equal(t, 1, fc.Iteration)

	assert.Equal(t, http.StatusNotFound, c.do("GET", "/api/v1/instances/"+id+"/files/content?path=nope", nil, nil))
	assert.Equal(t, http.StatusNotFound, c.do("GET", "/api/v1/instances/"+id+"/files/history?path=nope", nil, nil))
	assert.Equal(t, http.StatusNotFound, c.do("GET", "/api/v1/instances/"+id+"/files/at?path=docs/a.txt&iteration=3", nil, nil))
	assert.Equal(t, http.StatusNotFound, c.do("GET", "/api/v1/instances/"+id+"/files?path=nope", nil, nil))
	assert.Equal(t, http.StatusBadRequest, c.do("GET", "/api/v1/instances/"+id+"/files/at?path=docs/a.txt&iteration=0", nil, nil))
	assert.Equal(t, http.StatusBadRequest, c.do("GET", "/api/v1/instances/"+id+"/files?depth=x", nil, nil))
	assert.Equal(t, http.StatusNotFound, c.do("GET", "/api/v1/instances/inst_missing/files", nil, nil))

	var miss simkit.ErrorBody
	c.do("GET", "/api/v1/instances/"+id+"/files/content?path=nope", nil, &miss)
	assert.Equal(t, "file_not_found", miss.Error.Code, "a missing file is told apart from a missing instance")
	c.do("GET", "/api/v1/instances/inst_missing/files/content?path=docs/a.txt", nil, &miss)
	assert.Equal(t, "not_found", miss.Error.Code)
}

func TestStreamFramesAndCommands(t *testing.T) {
	_, c := startSim(t, Options{})
	id := c.create("echo", "s")
	a := c.dial(id, 0)
	b := c.dial(id, 0)

	sendCommand(t, a, map[string]any{"type": "process_message", "content": map[string]any{"text": "hi", "client_turn_id": "c1"}})
	fa := readUntil(t, a, "turn_complete")
	fb := readUntil(t, b, "turn_complete")
	assert.Equal(t, fa, fb, "every client of an instance gets the same frames")

	first := fa[0]
	assert.Equal(t, 1.0, first["seq"])
	assert.NotZero(t, first["ts"])
	assert.Equal(t, "update", first["type"])
	assert.Equal(t, "user_message", first["event_type"])
	assert.Equal(t, "turn_1", first["turn_id"])
	assert.Equal(t, map[string]any{"text": "hi", "client_turn_id": "c1"}, first["content"])
	assert.Equal(t, "stream_start", fa[1]["event_type"])

	for _, bad := range []string{`{"type":"interrupt"}`, `{"type":"dance"}`, `not json`, `{"type":"answer","content":{"prompt_id":"p1","approved":true}}`} {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		require.NoError(t, a.Write(ctx, websocket.MessageText, []byte(bad)))
		cancel()
		reply := readFrame(t, a)
		assert.Equal(t, "command_error", reply["type"], bad)
		assert.NotEmpty(t, reply["message"])
		assert.NotContains(t, reply, "seq", "command errors are not events")
	}

	// Resuming after N gets exactly the frames after N.
	r := c.dial(id, 2)
	assert.Equal(t, 3.0, readFrame(t, r)["seq"])
}

func TestStreamOfAStoppedInstanceSendsHistoryThenCloses(t *testing.T) {
	s, c := startSim(t, Options{})
	id := c.create("echo", "s")
	live := c.dial(id, 0)
	require.NoError(t, s.Engine().Command(id, Command{Type: CmdProcessMessage, Text: "bye"}))
	frames := readUntil(t, live, "turn_complete")
	require.Equal(t, http.StatusNoContent, c.do("DELETE", "/api/v1/instances/"+id, nil, nil))
	assertClosedNormally(t, live)

	late := c.dial(id, 1)
	for _, want := range frames[1:] {
		assert.Equal(t, want, readFrame(t, late))
	}
	assertClosedNormally(t, late)

	_, err := c.tryDial("inst_missing", 0)
	assert.Error(t, err)
}

func assertClosedNormally(t *testing.T, conn *websocket.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, _, err := conn.Read(ctx)
	var ce websocket.CloseError
	require.True(t, errors.As(err, &ce), "want a close frame, got %v", err)
	assert.Equal(t, websocket.StatusNormalClosure, ce.Code)
	assert.Equal(t, "instance stopped", ce.Reason)
}

func TestStartRefusesNonLoopbackAddresses(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	for _, addr := range []string{"0.0.0.0:0", ":0", "10.1.2.3:0", "example.com:80", "no-port"} {
		_, err := s.Start(addr)
		assert.Error(t, err, addr)
	}
	_, err := s.Start("localhost:0")
	require.NoError(t, err)
	_, err = s.Start("127.0.0.1:0")
	assert.Error(t, err, "already started")
}

func TestCloseEndsLiveStreams(t *testing.T) {
	s := New(Options{})
	base, err := s.Start("127.0.0.1:0")
	require.NoError(t, err)
	c := &client{t: t, base: base, http: &http.Client{Transport: &http.Transport{}}}
	id := c.create("guarded-agent", "s")
	conn := c.dial(id, 0)
	sendCommand(t, conn, map[string]any{"type": "process_message", "content": map[string]any{"text": "wait for me"}})
	readUntil(t, conn, "tool.permission_requested")

	closed := make(chan struct{})
	go func() {
		s.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(wait):
		t.Fatal("Close hung on a live stream and a waiting turn")
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, _, err = conn.Read(ctx)
	assert.Error(t, err)
	_, err = s.Start("127.0.0.1:0")
	assert.Error(t, err, "a closed simulator does not start again")
}

func TestSecretsMustArriveSealed(t *testing.T) {
	const key = "sim-secrets-key"
	s, c := startSim(t, Options{SecretsKey: key})
	body := func(secrets any) map[string]any {
		return map[string]any{"agent_type": "echo", "secrets": secrets}
	}
	var errBody map[string]map[string]string
	assert.Equal(t, http.StatusBadRequest, c.do("POST", "/api/v1/instances", body(map[string]string{"k": "v"}), &errBody))
	assert.Equal(t, "invalid_secrets", errBody["error"]["code"])

	var out map[string]any
	require.Equal(t, http.StatusCreated, c.do("POST", "/api/v1/instances", body(sealForTest(t, key, map[string]string{"k": "v"})), &out))
	got, err := s.Secrets(out["instance_id"].(string))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"k": "v"}, got)

	assert.Equal(t, http.StatusBadRequest, c.do("POST", "/api/v1/instances", body(sealForTest(t, "other", map[string]string{"k": "v"})), nil))

	// Without a key of its own, the simulator accepts the envelope unread.
	s2, c2 := startSim(t, Options{})
	require.Equal(t, http.StatusCreated, c2.do("POST", "/api/v1/instances", body(sealForTest(t, key, map[string]string{"k": "v"})), &out))
	got, err = s2.Secrets(out["instance_id"].(string))
	require.NoError(t, err)
	assert.Empty(t, got)
}

func sealForTest(t *testing.T, key string, m map[string]string) envelope {
	t.Helper()
	plain, err := json.Marshal(m)
	require.NoError(t, err)
	k := sha256.Sum256([]byte(key))
	block, err := aes.NewCipher(k[:])
	require.NoError(t, err)
	gcm, err := cipher.NewGCM(block)
	require.NoError(t, err)
	nonce := make([]byte, gcm.NonceSize())
	_, err = rand.Read(nonce)
	require.NoError(t, err)
	return envelope{V: 1, Alg: "A256GCM", Nonce: base64.StdEncoding.EncodeToString(nonce), Ciphertext: base64.StdEncoding.EncodeToString(gcm.Seal(nil, nonce, plain, nil))}
}
