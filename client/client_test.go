package client_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/diminuendo/diminuendo/api"
	"github.com/diminuendo/diminuendo/app/config"
	"github.com/diminuendo/diminuendo/client"
	"github.com/diminuendo/diminuendo/gatewaytest"
)

// dialer records every TCP connection the client opens, so a test can cut
// one from underneath it.
type dialer struct {
	mu    sync.Mutex
	conns []net.Conn
}

func (d *dialer) websocket() *websocket.Dialer {
	return &websocket.Dialer{HandshakeTimeout: 5 * time.Second, NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			d.mu.Lock()
			d.conns = append(d.conns, c)
			d.mu.Unlock()
		}
		return c, err
	}}
}

func (d *dialer) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.conns)
}

// cut closes the newest connection without a close frame, as a network
// failure would.
func (d *dialer) cut() {
	d.mu.Lock()
	defer d.mu.Unlock()
	_ = d.conns[len(d.conns)-1].Close()
}

func dial(t *testing.T, gw *gatewaytest.Gateway, opts client.Options) *client.Client {
	t.Helper()
	opts.URL = gw.WSURL
	if opts.TokenSource == nil {
		opts.TokenSource = gw.TokenSource()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, opts)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func timeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// until reads events until one of type typ for the session, returning every
// event of that session read on the way (inclusive).
func until(t *testing.T, c *client.Client, sessionID, typ string) []client.Event {
	t.Helper()
	var out []client.Event
	deadline := time.After(15 * time.Second)
	for {
		select {
		case ev, ok := <-c.Events():
			if !ok {
				t.Fatalf("events closed while waiting for %s: %v", typ, c.Err())
			}
			if ev.SessionID != sessionID {
				continue
			}
			out = append(out, ev)
			if ev.Type == typ {
				return out
			}
		case <-deadline:
			t.Fatalf("no %s; got %s", typ, types(out))
		}
	}
}

func sequenced(evs []client.Event) []client.Event {
	var out []client.Event
	for _, e := range evs {
		if e.Sequenced() {
			out = append(out, e)
		}
	}
	return out
}

func types(evs []client.Event) string {
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "%s#%d ", e.Type, e.Seq)
	}
	return b.String()
}

func requireGapless(t *testing.T, evs []client.Event, first int64) {
	t.Helper()
	for i, e := range evs {
		if e.Seq != first+int64(i) {
			t.Fatalf("event %d is %s#%d, want seq %d: %s", i, e.Type, e.Seq, first+int64(i), types(evs))
		}
	}
}

// A turn from create to turn_complete, authenticated with an RS256 token
// from the token source.
func TestTurnEndToEnd(t *testing.T) {
	gw := gatewaytest.Start(t)
	c := dial(t, gw, client.Options{TokenSource: gw.TokenSource(gatewaytest.User("ada"), gatewaytest.Tenant("acme"))})
	if id := c.Identity(); id.UserId != "ada" || id.TenantId != "acme" || id.Role != "developer" {
		t.Fatalf("identity %+v", id)
	}
	ctx := timeout(t, 20*time.Second)
	s, err := c.CreateSession(ctx, client.NewSession{AgentType: "echo", Name: "first"})
	if err != nil || s.Name != "first" || s.AgentType != "echo" {
		t.Fatalf("create: %+v %v", s, err)
	}
	snap, err := c.Join(ctx, s.Id)
	if err != nil || snap.SessionId != s.Id || !snap.ReplayComplete || snap.Epoch == "" {
		t.Fatalf("join: %+v %v", snap, err)
	}
	if err := c.RunTurn(ctx, s.Id, "hello there", "ct-1"); err != nil {
		t.Fatalf("run: %v", err)
	}
	evs := sequenced(until(t, c, s.Id, client.TypeTurnComplete))
	requireGapless(t, evs, snap.LatestSeq+1)
	v, err := evs[0].Value()
	um, ok := v.(api.UserMessageEvent)
	if err != nil || !ok || um.ClientTurnId == nil || *um.ClientTurnId != "ct-1" || um.Text != "hello there" {
		t.Fatalf("first event %s (%T, %v)", evs[0], v, err)
	}
	var text strings.Builder
	for _, e := range evs {
		text.WriteString(e.Text())
	}
	u, err := evs[len(evs)-1].ServerEvent()
	if err != nil {
		t.Fatal(err)
	}
	done, err := u.AsTurnCompleteEvent()
	if err != nil || done.FinalText != text.String() || done.StopReason != "end_turn" {
		t.Fatalf("turn_complete %s; deltas %q", evs[len(evs)-1], text.String())
	}
	if _, last, ok := c.Position(s.Id); !ok || last != evs[len(evs)-1].Seq {
		t.Fatalf("position %d, want %d", last, evs[len(evs)-1].Seq)
	}
}

// The TCP connection is cut mid-turn: the client reconnects, re-joins from
// the last seq it delivered, and the turn arrives whole, with no gap and no
// duplicate, byte for byte as the gateway stored it.
func TestCutConnectionResumesMidTurn(t *testing.T) {
	gw := gatewaytest.Start(t, gatewaytest.WithConfig(func(c *config.Config) { c.SimStepDelay = 15 * time.Millisecond }))
	d := &dialer{}
	var states []client.State
	var smu sync.Mutex
	c := dial(t, gw, client.Options{Dialer: d.websocket(), MinBackoff: 50 * time.Millisecond, OnState: func(s client.State, _ error) {
		smu.Lock()
		states = append(states, s)
		smu.Unlock()
	}})
	ctx := timeout(t, 30*time.Second)
	s, err := c.CreateSession(ctx, client.NewSession{AgentType: "coding-agent"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Join(ctx, s.Id); err != nil {
		t.Fatal(err)
	}
	if err := c.RunTurn(ctx, s.Id, "write the notes", ""); err != nil {
		t.Fatal(err)
	}
	var evs []client.Event
	for len(evs) < 4 {
		ev := <-c.Events()
		if ev.Sequenced() {
			evs = append(evs, ev)
		}
	}
	d.cut()
	evs = append(evs, sequenced(until(t, c, s.Id, client.TypeTurnComplete))...)
	requireGapless(t, evs, 1)
	if d.count() < 2 {
		t.Fatalf("the client did not reconnect: %d connections", d.count())
	}
	smu.Lock()
	if !strings.Contains(fmt.Sprint(states), "reconnecting open") {
		t.Errorf("states %v", states)
	}
	smu.Unlock()
	page, err := c.GetEvents(ctx, s.Id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != len(evs) {
		t.Fatalf("the gateway stored %d events, the client delivered %d", len(page.Events), len(evs))
	}
	for i, e := range page.Events {
		if string(e.Raw) != string(evs[i].Raw) {
			t.Fatalf("event %d differs:\nstored    %s\ndelivered %s", e.Seq, e.Raw, evs[i].Raw)
		}
	}
}

// Events the gateway sends again are dropped: resuming an already joined
// session from seq 0 makes the gateway replay the whole history, and none
// of it reaches Events a second time; the next turn follows on.
func TestDuplicateSeqsDropped(t *testing.T) {
	gw := gatewaytest.Start(t)
	var wire atomic.Int64 // sequenced frames received, duplicates included
	c := dial(t, gw, client.Options{Trace: func(sent bool, b []byte) {
		if !sent && strings.Contains(string(b), `"seq":`) {
			wire.Add(1)
		}
	}})
	ctx := timeout(t, 20*time.Second)
	s, err := c.CreateSession(ctx, client.NewSession{AgentType: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := c.Join(ctx, s.Id)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.RunTurn(ctx, s.Id, "one", ""); err != nil {
		t.Fatal(err)
	}
	first := sequenced(until(t, c, s.Id, client.TypeTurnComplete))
	before := wire.Load()
	again, err := c.Resume(ctx, s.Id, 0, snap.Epoch)
	if err != nil || !again.ReplayComplete || again.LatestSeq != int64(len(first)) {
		t.Fatalf("resume from 0: %+v %v", again, err)
	}
	if err := c.RunTurn(ctx, s.Id, "two", ""); err != nil {
		t.Fatal(err)
	}
	second := sequenced(until(t, c, s.Id, client.TypeTurnComplete))
	requireGapless(t, second, int64(len(first))+1)
	if replayed := wire.Load() - before - int64(len(second)); replayed != int64(len(first)) {
		t.Fatalf("the gateway replayed %d events, want %d", replayed, len(first))
	}
}

// Replies are matched to their requests by requestId while many requests
// from several goroutines share the connection.
func TestRepliesMatchedUnderConcurrency(t *testing.T) {
	gw := gatewaytest.Start(t)
	c := dial(t, gw, client.Options{})
	ctx := timeout(t, 30*time.Second)
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("session %d", i)
			s, err := c.CreateSession(ctx, client.NewSession{AgentType: "echo", Name: name})
			if err == nil && s.Name != name {
				err = fmt.Errorf("asked for %q, got %q", name, s.Name)
			}
			errs <- err
		}()
		go func() {
			defer wg.Done()
			missing := fmt.Sprintf("ses_missing%d", i)
			_, err := c.GetEvents(ctx, missing, 0, 1)
			var e *client.Error
			if !errors.As(err, &e) || e.Code != "SESSION_NOT_FOUND" || e.SessionID != missing {
				errs <- fmt.Errorf("get_events of %s: %v", missing, err)
				return
			}
			errs <- nil
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// Error frames become *client.Error values carrying the gateway's code,
// for requests with a reply and for commands without one alike; a refused
// upgrade is one too.
func TestErrorRepliesAreTyped(t *testing.T) {
	gw := gatewaytest.Start(t)
	ctx := timeout(t, 20*time.Second)
	viewer := dial(t, gw, client.Options{TokenSource: gw.TokenSource(gatewaytest.Role("viewer"))})
	if _, err := viewer.CreateSession(ctx, client.NewSession{AgentType: "echo"}); !client.IsCode(err, "FORBIDDEN") {
		t.Fatalf("a viewer creating a session: %v", err)
	}
	c := dial(t, gw, client.Options{})
	if _, err := c.CreateSession(ctx, client.NewSession{AgentType: "bad agent!"}); !client.IsCode(err, "INVALID_MESSAGE") {
		t.Fatalf("an invalid agent type: %v", err)
	}
	if _, err := c.Join(ctx, "ses_nothere"); !errors.Is(err, &client.Error{Code: "SESSION_NOT_FOUND"}) {
		t.Fatalf("join of a missing session: %v", err)
	}
	err := c.RunTurn(ctx, "ses_nothere", "hi", "")
	var e *client.Error
	if !errors.As(err, &e) || e.Code != "SESSION_NOT_FOUND" || e.RequestID == "" || e.Message == "" {
		t.Fatalf("run_turn on a missing session: %#v", err)
	}
	if _, err := c.Request(ctx, map[string]any{"type": "no_such_message"}); !client.IsCode(err, "INVALID_MESSAGE") {
		t.Fatalf("an unknown message: %v", err)
	}
	if _, err := c.Ping(ctx); err != nil {
		t.Fatalf("the connection did not survive the refusals: %v", err)
	}

	_, err = client.Dial(ctx, client.Options{URL: gw.WSURL, TokenSource: client.StaticToken(gw.Token(gatewaytest.ExpiresIn(-time.Minute)))})
	if !client.IsCode(err, "TOKEN_EXPIRED") {
		t.Fatalf("dial with an expired token: %v", err)
	}
}

// On auth_expiring the client fetches a fresh token and authenticates again
// on the same connection, which thereby outlives the first token.
func TestTokenRefreshedOnAuthExpiring(t *testing.T) {
	const ttl = 4 * time.Second
	gw := gatewaytest.Start(t, gatewaytest.WithConfig(func(c *config.Config) { c.AuthExpiryWarning = 3 * time.Second }))
	var minted atomic.Int64
	tokens := gw.TokenSource(gatewaytest.ExpiresIn(ttl))
	d := &dialer{}
	c := dial(t, gw, client.Options{Dialer: d.websocket(), TokenSource: func(ctx context.Context) (string, error) {
		minted.Add(1)
		return tokens(ctx)
	}})
	ctx := timeout(t, 20*time.Second)
	refreshed := 0
	deadline := time.After(ttl + 2*time.Second)
	for wait := true; wait; {
		select {
		case ev := <-c.Events():
			if ev.Type == client.TypeAuthenticated && ev.RequestID != "" {
				refreshed++
			}
			if ev.Type == client.TypeError {
				t.Fatalf("error frame: %s", ev)
			}
		case <-deadline:
			wait = false
		}
	}
	if refreshed < 2 || minted.Load() < 3 {
		t.Fatalf("%d refreshes, %d tokens minted", refreshed, minted.Load())
	}
	if _, err := c.Ping(ctx); err != nil || d.count() != 1 || c.State() != client.Open {
		t.Fatalf("after the first token's exp: ping %v, %d connections, state %s", err, d.count(), c.State())
	}
}

// Close stops the client: Events is closed, Err says so and calls fail.
func TestCloseStops(t *testing.T) {
	gw := gatewaytest.Start(t, gatewaytest.WithDevMode())
	c := dial(t, gw, client.Options{})
	if id := c.Identity(); id.UserId != "dev-user-001" {
		t.Fatalf("dev identity %+v", id)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	for range c.Events() {
	}
	if !errors.Is(c.Err(), client.ErrClosed) || c.State() != client.Closed {
		t.Fatalf("after Close: %v %s", c.Err(), c.State())
	}
	if _, err := c.ListSessions(context.Background(), false); !errors.Is(err, client.ErrClosed) {
		t.Fatalf("a call after Close: %v", err)
	}
}

// The request methods reach their gateway operations and decode the
// replies into the contract's types.
func TestSessionRequests(t *testing.T) {
	gw := gatewaytest.Start(t)
	c := dial(t, gw, client.Options{TokenSource: gw.TokenSource(gatewaytest.Role("admin"))})
	ctx := timeout(t, 30*time.Second)
	kinds, err := c.ListAgentTypes(ctx)
	if err != nil || len(kinds) < 3 {
		t.Fatalf("agent types: %v %v", kinds, err)
	}
	s, err := c.CreateSession(ctx, client.NewSession{AgentType: "coding-agent", Name: "files", ProjectID: "p1"})
	if err != nil || s.ProjectId != "p1" {
		t.Fatalf("create: %+v %v", s, err)
	}
	if s, err = c.RenameSession(ctx, s.Id, "renamed"); err != nil || s.Name != "renamed" {
		t.Fatalf("rename: %+v %v", s, err)
	}
	if _, err := c.Join(ctx, s.Id); err != nil {
		t.Fatal(err)
	}
	if err := c.RunTurn(ctx, s.Id, "note this", "ct-files"); err != nil {
		t.Fatal(err)
	}
	until(t, c, s.Id, client.TypeTurnComplete)
	hist, err := c.GetHistory(ctx, s.Id, "", 0)
	if err != nil || len(hist.Turns) != 1 || hist.Turns[0].ClientTurnId == nil || *hist.Turns[0].ClientTurnId != "ct-files" {
		t.Fatalf("history: %+v %v", hist, err)
	}
	files, err := c.ListFiles(ctx, s.Id, "", 0)
	if err != nil || len(files.Entries) == 0 {
		t.Fatalf("files: %+v %v", files, err)
	}
	f, err := c.ReadFile(ctx, s.Id, "notes.md")
	if err != nil || !strings.Contains(f.Content, "note this") || f.Iteration != 1 {
		t.Fatalf("read: %+v %v", f, err)
	}
	fh, err := c.FileHistory(ctx, s.Id, "notes.md")
	if err != nil || len(fh.Iterations) != 1 {
		t.Fatalf("file history: %+v %v", fh, err)
	}
	if at, err := c.FileAtIteration(ctx, s.Id, "notes.md", 1); err != nil || at.Hash != f.Hash {
		t.Fatalf("at iteration: %+v %v", at, err)
	}
	page, err := c.GetEvents(ctx, s.Id, 0, 2)
	if err != nil || len(page.Events) != 2 || !page.HasMore || page.Events[1].Seq != 2 {
		t.Fatalf("events: %+v %v", page, err)
	}
	if _, err := c.ArchiveSession(ctx, s.Id); err != nil {
		t.Fatal(err)
	}
	if err := c.RunTurn(ctx, s.Id, "again", ""); !client.IsCode(err, "INVALID_STATE") {
		t.Fatalf("a turn in an archived session: %v", err)
	}
	if list, err := c.ListSessions(ctx, false); err != nil || len(list) != 0 {
		t.Fatalf("list without archived: %v %v", list, err)
	}
	if _, err := c.UnarchiveSession(ctx, s.Id); err != nil {
		t.Fatal(err)
	}
	if err := c.Leave(ctx, s.Id); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := c.Position(s.Id); ok {
		t.Fatal("still following the session after leaving it")
	}
	if err := c.DeleteSession(ctx, s.Id); err != nil {
		t.Fatal(err)
	}
	if list, err := c.ListSessions(ctx, true); err != nil || len(list) != 0 {
		t.Fatalf("list after delete: %v %v", list, err)
	}
}

// A resume the gateway cannot serve (another epoch) is surfaced: the
// snapshot on Events says ReplayIncomplete, nothing is replayed, and live
// events follow on from the snapshot's latestSeq.
func TestIncompleteReplaySurfaced(t *testing.T) {
	gw := gatewaytest.Start(t)
	a := dial(t, gw, client.Options{})
	b := dial(t, gw, client.Options{})
	ctx := timeout(t, 20*time.Second)
	s, err := a.CreateSession(ctx, client.NewSession{AgentType: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Join(ctx, s.Id); err != nil {
		t.Fatal(err)
	}
	if err := a.RunTurn(ctx, s.Id, "one", ""); err != nil {
		t.Fatal(err)
	}
	first := sequenced(until(t, a, s.Id, client.TypeTurnComplete))
	snap, err := b.Resume(ctx, s.Id, 1, "0000000000000000")
	if err != nil || snap.ReplayComplete || snap.LatestSeq != int64(len(first)) {
		t.Fatalf("resume in another epoch: %+v %v", snap, err)
	}
	evs := until(t, b, s.Id, client.TypeStateSnapshot)
	if !evs[len(evs)-1].ReplayIncomplete() || len(sequenced(evs)) != 0 {
		t.Fatalf("before and with the snapshot: %s", types(evs))
	}
	if err := a.RunTurn(ctx, s.Id, "two", ""); err != nil {
		t.Fatal(err)
	}
	second := sequenced(until(t, b, s.Id, client.TypeTurnComplete))
	requireGapless(t, second, snap.LatestSeq+1)
	if epoch, last, ok := b.Position(s.Id); !ok || epoch != snap.Epoch || last != second[len(second)-1].Seq {
		t.Fatalf("position %s %d %v", epoch, last, ok)
	}
}

// The same turn on in-memory fakes in dev mode: no token, no upstream HTTP.
func TestTurnOnFakesInDevMode(t *testing.T) {
	gw := gatewaytest.Start(t, gatewaytest.WithDevMode(), gatewaytest.WithFakes())
	c := dial(t, gw, client.Options{})
	ctx := timeout(t, 20*time.Second)
	s, err := c.CreateSession(ctx, client.NewSession{AgentType: "guarded-agent"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Join(ctx, s.Id); err != nil {
		t.Fatal(err)
	}
	if err := c.RunTurn(ctx, s.Id, "note it", ""); err != nil {
		t.Fatal(err)
	}
	evs := until(t, c, s.Id, client.TypePermissionRequested)
	var p api.PermissionRequestedEvent
	if err := evs[len(evs)-1].Decode(&p); err != nil {
		t.Fatal(err)
	}
	if err := c.Approve(ctx, s.Id, p.PromptId); err != nil {
		t.Fatal(err)
	}
	if err := c.Approve(ctx, s.Id, p.PromptId); !client.IsCode(err, "NOT_FOUND") && !client.IsCode(err, "INVALID_STATE") {
		t.Fatalf("answering the same prompt twice: %v", err)
	}
	evs = append(evs, until(t, c, s.Id, client.TypeTurnComplete)...)
	requireGapless(t, sequenced(evs), 1)
	if !strings.Contains(types(evs), "approval_resolved") || !strings.Contains(types(evs), "tool_result") {
		t.Fatalf("events: %s", types(evs))
	}
}

// Steer and StopTurn on a turn waiting for its permission prompt.
func TestSteerAndStop(t *testing.T) {
	gw := gatewaytest.Start(t)
	c := dial(t, gw, client.Options{})
	ctx := timeout(t, 20*time.Second)
	s, err := c.CreateSession(ctx, client.NewSession{AgentType: "guarded-agent"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Join(ctx, s.Id); err != nil {
		t.Fatal(err)
	}
	if err := c.StopTurn(ctx, s.Id); !client.IsCode(err, "INVALID_STATE") {
		t.Fatalf("stop with no turn: %v", err)
	}
	if err := c.RunTurn(ctx, s.Id, "note it", ""); err != nil {
		t.Fatal(err)
	}
	until(t, c, s.Id, client.TypePermissionRequested)
	turnID, err := c.Steer(ctx, s.Id, "be brief")
	if err != nil || turnID != "turn_1" {
		t.Fatalf("steer: %q %v", turnID, err)
	}
	if err := c.StopTurn(ctx, s.Id); err != nil {
		t.Fatal(err)
	}
	evs := until(t, c, s.Id, client.TypeTurnComplete)
	var done api.TurnCompleteEvent
	if err := evs[len(evs)-1].Decode(&done); err != nil || done.StopReason != "cancelled" {
		t.Fatalf("turn_complete %s", evs[len(evs)-1])
	}
}
