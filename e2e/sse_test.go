package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/fx"

	httpadapter "github.com/diminuendo/diminuendo/adapters/http"
	apiclient "github.com/diminuendo/diminuendo/api/client"
	"github.com/diminuendo/diminuendo/app/config"
)

// sseEvent is one event of a stream, or a comment line.
type sseEvent struct {
	ID      string
	Event   string
	Data    map[string]any
	Comment string
}

// sseClient reads one event stream over plain net/http.
type sseClient struct {
	t      *testing.T
	resp   *http.Response
	cancel context.CancelFunc
	events chan sseEvent
	done   chan struct{} // closed when the stream ends
}

// openSSE opens the session's stream; header may carry Last-Event-ID.
func (g *gateway) openSSE(t *testing.T, sessionID, query string, header http.Header) *sseClient {
	t.Helper()
	resp, cancel := g.getSSE(t, sessionID, query, header)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stream: HTTP %d", resp.StatusCode)
	}
	c := &sseClient{t: t, resp: resp, cancel: cancel, events: make(chan sseEvent, 4096), done: make(chan struct{})}
	go c.read()
	t.Cleanup(c.close)
	return c
}

// getSSE sends the stream request and returns the response as is.
func (g *gateway) getSSE(t *testing.T, sessionID, query string, header http.Header) (*http.Response, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	u := g.url("/api/sessions/" + sessionID + "/events/stream")
	if query != "" {
		u += "?" + query
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("stream: %v", err)
	}
	return resp, cancel
}

func (c *sseClient) read() {
	defer close(c.done)
	sc := bufio.NewScanner(c.resp.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var ev sseEvent
	var data string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if data != "" {
				if err := json.Unmarshal([]byte(data), &ev.Data); err != nil {
					c.t.Errorf("event data is not JSON: %q", data)
					return
				}
				checkSSE(c.t, ev)
				c.events <- ev
			}
			ev, data = sseEvent{}, ""
		case strings.HasPrefix(line, ":"):
			c.events <- sseEvent{Comment: strings.TrimSpace(line[1:])}
		case strings.HasPrefix(line, "id: "):
			ev.ID = line[4:]
		case strings.HasPrefix(line, "event: "):
			ev.Event = line[7:]
		case strings.HasPrefix(line, "data: "):
			data += line[6:]
		default:
			c.t.Errorf("unexpected stream line %q", line)
		}
	}
}

func (c *sseClient) close() {
	c.cancel()
	_ = c.resp.Body.Close()
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		c.t.Error("stream reader did not stop")
	}
}

// next returns the next event (comments skipped), failing after 10 s or
// when the stream ends.
func (c *sseClient) next() sseEvent {
	c.t.Helper()
	ev, ok := c.nextOrEnd(10 * time.Second)
	if !ok {
		c.t.Fatal("the stream ended")
	}
	return ev
}

// nextOrEnd returns the next event, or false when the stream ended.
func (c *sseClient) nextOrEnd(timeout time.Duration) (sseEvent, bool) {
	c.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case ev := <-c.events:
			if ev.Comment != "" {
				continue
			}
			return ev, true
		case <-c.done:
			select {
			case ev := <-c.events:
				if ev.Comment != "" {
					continue
				}
				return ev, true
			default:
				return sseEvent{}, false
			}
		case <-deadline:
			c.t.Fatalf("no event in %s", timeout)
		}
	}
}

// until reads events up to and including one of type typ.
func (c *sseClient) until(typ string) []sseEvent {
	c.t.Helper()
	var out []sseEvent
	for i := 0; i < 10000; i++ {
		ev := c.next()
		out = append(out, ev)
		if ev.Event == typ {
			return out
		}
	}
	c.t.Fatalf("no %s in 10000 events", typ)
	return nil
}

// seqEvents keeps the sequenced events' data, checking each carries its seq
// as the SSE id and its type as the SSE event name.
func seqEvents(t *testing.T, evs []sseEvent) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, ev := range evs {
		if ev.Event != ev.Data["type"] {
			t.Fatalf("event name %q carries data of type %v", ev.Event, ev.Data["type"])
		}
		if _, ok := ev.Data["seq"]; !ok {
			if ev.ID != "" {
				t.Fatalf("unsequenced %s has id %q", ev.Event, ev.ID)
			}
			continue
		}
		if ev.ID != strconv.FormatUint(seqOf(ev.Data), 10) {
			t.Fatalf("%s: id %q, seq %v", ev.Event, ev.ID, ev.Data["seq"])
		}
		out = append(out, ev.Data)
	}
	return out
}

func restClient(t *testing.T, g *gateway) *apiclient.ClientWithResponses {
	t.Helper()
	cl, err := apiclient.NewClientWithResponses("http://" + g.addr)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func createREST(t *testing.T, cl *apiclient.ClientWithResponses, agentType string) string {
	t.Helper()
	cr, err := cl.CreateSessionWithResponse(withTimeout(t, 10*time.Second), apiclient.CreateSessionJSONRequestBody{AgentType: agentType})
	if err != nil || cr.JSON201 == nil {
		t.Fatalf("create: %v %s", err, bodyOf(cr))
	}
	return cr.JSON201.Id
}

func runREST(t *testing.T, cl *apiclient.ClientWithResponses, id, text string) {
	t.Helper()
	tr, err := cl.RunTurnWithResponse(withTimeout(t, 10*time.Second), id, apiclient.RunTurnJSONRequestBody{Text: text})
	if err != nil || tr.StatusCode() != http.StatusAccepted {
		t.Fatalf("run turn: %v %s", err, bodyOf(tr))
	}
}

// allEvents pages through GET .../events from afterSeq 0.
func allEvents(t *testing.T, cl *apiclient.ClientWithResponses, id string) []map[string]any {
	t.Helper()
	var out []map[string]any
	after := int64(0)
	limit := 7 // small pages, so paging is exercised
	for i := 0; i < 1000; i++ {
		r, err := cl.GetEventsWithResponse(withTimeout(t, 10*time.Second), id, &apiclient.GetEventsParams{AfterSeq: &after, Limit: &limit})
		if err != nil || r.StatusCode() != http.StatusOK {
			t.Fatalf("events: %v %s", err, bodyOf(r))
		}
		var page struct {
			Events    []map[string]any `json:"events"`
			LatestSeq uint64           `json:"latestSeq"`
			HasMore   bool             `json:"hasMore"`
		}
		if err := json.Unmarshal(r.Body, &page); err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Events...)
		if !page.HasMore {
			return out
		}
		after = int64(seqOf(page.Events[len(page.Events)-1]))
	}
	t.Fatal("events kept having more")
	return nil
}

// waitForEvent polls GET .../events until an event of type typ with seq >
// after exists, and returns the newest seq then.
func waitForEvent(t *testing.T, cl *apiclient.ClientWithResponses, id, typ string, after uint64) uint64 {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		evs := allEvents(t, cl, id)
		for _, e := range evs {
			if e["type"] == typ && seqOf(e) > after {
				return seqOf(evs[len(evs)-1])
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %s after seq %d", typ, after)
	return 0
}

func bodyOf(r interface{ StatusCode() int }) string {
	if r == nil {
		return "<no response>"
	}
	v := reflect.ValueOf(r).Elem().FieldByName("Body")
	return strconv.Itoa(r.StatusCode()) + " " + string(v.Bytes())
}

// A turn started over REST streams over SSE: the snapshot first, then
// user_message … turn_complete with gapless seqs, the same events, field for
// field, as GET .../events returns.
func TestSSEStreamsARESTDrivenTurn(t *testing.T) {
	g := startGateway(t, nil)
	cl := restClient(t, g)
	id := createREST(t, cl, "coding-agent")
	s := g.openSSE(t, id, "", nil)
	for k, want := range map[string]string{"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"} {
		if got := s.resp.Header.Get(k); got != want {
			t.Fatalf("%s: %q, want %q", k, got, want)
		}
	}
	snap := s.next()
	if snap.Event != "state_snapshot" || snap.ID != "" || snap.Data["sessionId"] != id || snap.Data["replayComplete"] != true ||
		snap.Data["latestSeq"] != float64(0) || snap.Data["session"].(map[string]any)["id"] != id {
		t.Fatalf("snapshot: %+v", snap)
	}
	runREST(t, cl, id, "note this")
	frames := s.until("turn_complete")
	evs := seqEvents(t, frames)
	if evs[0]["type"] != "user_message" || evs[0]["text"] != "note this" {
		t.Fatalf("first event: %v", evs[0])
	}
	requireGapless(t, evs, 1)
	sawState := false
	for _, f := range frames {
		sawState = sawState || f.Event == "session_state" && f.Data["state"] == "running"
	}
	if !sawState {
		t.Fatal("no session_state running on the stream")
	}
	if last := evs[len(evs)-1]; last["stopReason"] != "end_turn" {
		t.Fatalf("turn_complete: %v", last)
	}
	if got := allEvents(t, cl, id); !reflect.DeepEqual(got, evs) {
		t.Fatalf("GET events differs from the stream:\n%s\n%s", types(got), types(evs))
	}
}

// A stream dropped mid-turn and reopened with Last-Event-ID gets exactly the
// events it missed, then live ones, with no gap and no duplicate.
func TestSSEResumeWithLastEventID(t *testing.T) {
	g := startGateway(t, nil)
	cl := restClient(t, g)
	id := createREST(t, cl, "coding-agent")
	steady := g.openSSE(t, id, "", nil)
	steady.next() // snapshot
	flaky := g.openSSE(t, id, "", nil)
	flaky.next()

	runREST(t, cl, id, "first")
	var held []sseEvent
	for len(held) < 5 {
		if ev := flaky.next(); ev.ID != "" {
			held = append(held, ev)
		}
	}
	flaky.close()
	all := seqEvents(t, steady.until("turn_complete"))
	runREST(t, cl, id, "second")
	all = append(all, seqEvents(t, steady.until("turn_complete"))...)
	requireGapless(t, all, 1)

	// The header wins over a stale afterSeq in the URL, as when an
	// EventSource reconnects to the URL it first used.
	back := g.openSSE(t, id, "afterSeq=1", http.Header{"Last-Event-ID": {held[len(held)-1].ID}})
	snap := back.next()
	if snap.Event != "state_snapshot" || snap.Data["replayComplete"] != true || snap.Data["latestSeq"] != float64(len(all)) {
		t.Fatalf("resume snapshot: %+v", snap.Data)
	}
	missed := all[len(held):]
	var got []map[string]any
	for len(got) < len(missed) {
		if ev := back.next(); ev.ID != "" {
			got = append(got, seqEvents(t, []sseEvent{ev})...)
		}
	}
	if !reflect.DeepEqual(got, missed) {
		t.Fatalf("replay:\n%s\nwant\n%s", types(got), types(missed))
	}
	// Live events follow the replay directly.
	runREST(t, cl, id, "third")
	live := seqEvents(t, back.until("turn_complete"))
	requireGapless(t, live, uint64(len(all))+1)

	// afterSeq alone resumes the same way.
	q := g.openSSE(t, id, "afterSeq="+strconv.Itoa(len(all)), nil)
	if snap := q.next(); snap.Data["replayComplete"] != true {
		t.Fatalf("afterSeq snapshot: %v", snap.Data)
	}
	if got := seqEvents(t, []sseEvent{q.next()}); len(got) != 1 || seqOf(got[0]) != uint64(len(all))+1 {
		t.Fatalf("afterSeq replay starts at %v", got)
	}
	// A cursor of another epoch gets an honest replayComplete:false.
	o := g.openSSE(t, id, "afterSeq=1&epoch=0000000000000000", nil)
	if snap := o.next(); snap.Data["replayComplete"] != false {
		t.Fatalf("foreign epoch snapshot: %v", snap.Data)
	}
}

// A guarded agent's permission prompt is steered and answered over REST;
// the stream shows the prompt, the steer, the resolution and the tool run.
func TestSSEGuardedTurnAnsweredOverREST(t *testing.T) {
	g := startGateway(t, nil)
	cl := restClient(t, g)
	ctx := withTimeout(t, 30*time.Second)
	id := createREST(t, cl, "guarded-agent")
	s := g.openSSE(t, id, "", nil)
	s.next()
	runREST(t, cl, id, "please")
	frames := s.until("permission_requested")
	prompt := frames[len(frames)-1].Data
	promptID := prompt["promptId"].(string)
	waiting := s.next()
	if waiting.Event != "session_state" || waiting.Data["state"] != "waiting" {
		t.Fatalf("after the prompt: %+v", waiting)
	}
	frames = append(frames, waiting)

	st, err := cl.SteerTurnWithResponse(ctx, id, apiclient.SteerTurnJSONRequestBody{Text: "briefly"})
	if err != nil || st.StatusCode() != http.StatusAccepted || st.JSON202 == nil || st.JSON202.TurnId != prompt["turnId"] || st.JSON202.SessionId != id {
		t.Fatalf("steer: %v %s", err, bodyOf(st))
	}
	steered := s.until("steer_applied")
	if ev := steered[len(steered)-1]; ev.Data["text"] != "briefly" {
		t.Fatalf("steer_applied: %v", ev.Data)
	}
	frames = append(frames, steered...)

	// A prompt that is not pending is NOT_FOUND; an empty promptId is refused.
	no, err := cl.AnswerQuestionWithResponse(ctx, id, apiclient.AnswerQuestionJSONRequestBody{PromptId: "nope", Approved: ptr(true)})
	requireError(t, no, err, http.StatusNotFound, apiclient.ErrorCodeNOTFOUND)
	empty, err := cl.AnswerQuestionWithResponse(ctx, id, apiclient.AnswerQuestionJSONRequestBody{PromptId: ""})
	requireError(t, empty, err, http.StatusBadRequest, apiclient.ErrorCodeINVALIDMESSAGE)

	ans, err := cl.AnswerQuestionWithResponse(ctx, id, apiclient.AnswerQuestionJSONRequestBody{PromptId: promptID, Approved: ptr(true)})
	if err != nil || ans.StatusCode() != http.StatusAccepted || ans.JSON202 == nil || !ans.JSON202.Accepted {
		t.Fatalf("answer: %v %s", err, bodyOf(ans))
	}
	res := s.until("approval_resolved")
	if r := res[len(res)-1].Data; r["promptId"] != promptID || r["approved"] != true {
		t.Fatalf("approval_resolved: %v", r)
	}
	rest := s.until("turn_complete")
	hasTool := false
	for _, e := range rest {
		hasTool = hasTool || e.Event == "tool_result"
	}
	if !hasTool {
		t.Fatalf("the approved turn did not run the tool: %s", types(seqEvents(t, rest)))
	}
	requireGapless(t, seqEvents(t, append(append(frames, res...), rest...)), 1)

	// Nothing to answer or steer once the turn is over.
	s.until("session_state")
	late, err := cl.AnswerQuestionWithResponse(ctx, id, apiclient.AnswerQuestionJSONRequestBody{PromptId: promptID, Approved: ptr(true)})
	requireError(t, late, err, http.StatusConflict, apiclient.ErrorCodeINVALIDSTATE)
	steerLate, err := cl.SteerTurnWithResponse(ctx, id, apiclient.SteerTurnJSONRequestBody{Text: "more"})
	requireError(t, steerLate, err, http.StatusConflict, apiclient.ErrorCodeINVALIDSTATE)
}

// POST .../stop ends the running turn: turn_complete {stopReason cancelled}
// on the stream. With no turn running it is INVALID_STATE.
func TestSSEStopOverREST(t *testing.T) {
	g := startGateway(t, nil)
	cl := restClient(t, g)
	ctx := withTimeout(t, 30*time.Second)
	id := createREST(t, cl, "guarded-agent")
	s := g.openSSE(t, id, "", nil)
	s.next()
	idle, err := cl.StopTurnWithResponse(ctx, id)
	requireError(t, idle, err, http.StatusConflict, apiclient.ErrorCodeINVALIDSTATE)

	runREST(t, cl, id, "go")
	s.until("permission_requested")
	st, err := cl.StopTurnWithResponse(ctx, id)
	if err != nil || st.StatusCode() != http.StatusAccepted || st.JSON202 == nil || st.JSON202.SessionId != id {
		t.Fatalf("stop: %v %s", err, bodyOf(st))
	}
	evs := s.until("turn_complete")
	if last := evs[len(evs)-1].Data; last["stopReason"] != "cancelled" {
		t.Fatalf("stopped turn: %v", last)
	}
	// The session takes a new turn.
	runREST(t, cl, id, "go again")
	s.until("permission_requested")
}

// Keepalive comments flow while the stream is idle, and a stream whose
// client went away leaves the session: with no subscriber left, the idle
// janitor deactivates it, which it never does while one is attached.
func TestSSEKeepaliveAndLeave(t *testing.T) {
	g := startGateway(t, func(c *config.Config) { c.IdleTimeout = 200 * time.Millisecond },
		fx.Invoke(func(s *httpadapter.Server) { s.WithSSE(httpadapter.SSEConfig{Keepalive: 30 * time.Millisecond}) }))
	cl := restClient(t, g)
	id := createREST(t, cl, "echo")
	s := g.openSSE(t, id, "", nil)
	s.next()
	deadline := time.After(10 * time.Second)
	for keepalive := false; !keepalive; {
		select {
		case ev := <-s.events:
			keepalive = ev.Comment == "keepalive"
		case <-deadline:
			t.Fatal("no keepalive comment")
		}
	}
	time.Sleep(600 * time.Millisecond) // three idle timeouts
	if st := sessionState(t, cl, id); st != apiclient.SessionStateReady {
		t.Fatalf("attached session went %s", st)
	}
	s.close()
	end := time.Now().Add(10 * time.Second)
	for sessionState(t, cl, id) != apiclient.SessionStateInactive {
		if time.Now().After(end) {
			t.Fatal("the session stayed active after its only stream went away")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func sessionState(t *testing.T, cl *apiclient.ClientWithResponses, id string) apiclient.SessionState {
	t.Helper()
	r, err := cl.GetSessionWithResponse(withTimeout(t, 10*time.Second), id)
	if err != nil || r.JSON200 == nil {
		t.Fatalf("get session: %v %s", err, bodyOf(r))
	}
	return r.JSON200.State
}

// A consumer that falls behind sees its stream end after a gapless prefix,
// and resuming with Last-Event-ID, again and again, yields every event
// exactly once. The queue bound is one byte here, so each stream carries
// the snapshot and one event.
func TestSSEOverflowEndsTheStreamAndResumes(t *testing.T) {
	g := startGateway(t, nil, fx.Invoke(func(s *httpadapter.Server) { s.WithSSE(httpadapter.SSEConfig{QueueBytes: 1}) }))
	cl := restClient(t, g)
	id := createREST(t, cl, "coding-agent")
	runREST(t, cl, id, "fill the log")
	waitForEvent(t, cl, id, "turn_complete", 0)
	want := allEvents(t, cl, id)
	latest := seqOf(want[len(want)-1])

	var got []map[string]any
	last := "0"
	rounds := 0
	for ; uint64(len(got)) < latest; rounds++ {
		if rounds > int(latest)+1 {
			t.Fatalf("no progress after %d streams: have %d of %d", rounds, len(got), latest)
		}
		s := g.openSSE(t, id, "", http.Header{"Last-Event-ID": {last}})
		if snap := s.next(); snap.Event != "state_snapshot" || snap.Data["replayComplete"] != true {
			t.Fatalf("snapshot: %+v", snap)
		}
		for {
			ev, ok := s.nextOrEnd(10 * time.Second)
			if !ok {
				break
			}
			got = append(got, seqEvents(t, []sseEvent{ev})...)
			last = ev.ID
			if uint64(len(got)) == latest {
				break
			}
		}
		s.close()
	}
	requireGapless(t, got, 1)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("resumed events differ:\n%s\n%s", types(got), types(want))
	}
	if rounds != int(latest) {
		t.Fatalf("%d streams for %d events; the bound lets each carry one", rounds, latest)
	}
}

// Deleting the session ends its streams after session_deleted.
func TestSSEEndsAfterSessionDeleted(t *testing.T) {
	g := startGateway(t, nil)
	cl := restClient(t, g)
	id := createREST(t, cl, "echo")
	s := g.openSSE(t, id, "", nil)
	s.next()
	del, err := cl.DeleteSessionWithResponse(withTimeout(t, 10*time.Second), id)
	if err != nil || del.StatusCode() != http.StatusNoContent {
		t.Fatalf("delete: %v %s", err, bodyOf(del))
	}
	if ev := s.next(); ev.Event != "session_deleted" || ev.ID != "" || ev.Data["sessionId"] != id {
		t.Fatalf("after delete: %+v", ev)
	}
	if ev, ok := s.nextOrEnd(10 * time.Second); ok {
		t.Fatalf("the stream went on after session_deleted: %+v", ev)
	}
}

// Shutting the gateway down ends open streams instead of waiting on them.
func TestSSEEndsOnShutdown(t *testing.T) {
	g := startGateway(t, nil)
	cl := restClient(t, g)
	id := createREST(t, cl, "echo")
	s := g.openSSE(t, id, "", nil)
	s.next()
	start := time.Now()
	g.app.RequireStop()
	if d := time.Since(start); d > 8*time.Second {
		t.Fatalf("shutdown took %s with a stream open", d)
	}
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		t.Fatal("the stream outlived the server")
	}
}

// Stream errors are the API's error bodies, before any event is sent.
func TestSSEErrors(t *testing.T) {
	g := startGateway(t, nil)
	cl := restClient(t, g)
	id := createREST(t, cl, "echo")
	for _, tc := range []struct {
		name, session, query string
		header               http.Header
		status               int
		code                 string
	}{
		{"missing session", "ses_nope", "", nil, http.StatusNotFound, "SESSION_NOT_FOUND"},
		{"bad Last-Event-ID", id, "", http.Header{"Last-Event-ID": {"abc"}}, http.StatusBadRequest, "INVALID_MESSAGE"},
		{"negative Last-Event-ID", id, "", http.Header{"Last-Event-ID": {"-1"}}, http.StatusBadRequest, "INVALID_MESSAGE"},
		{"negative afterSeq", id, "afterSeq=-1", nil, http.StatusBadRequest, "INVALID_MESSAGE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, cancel := g.getSSE(t, tc.session, tc.query, tc.header)
			defer cancel()
			defer resp.Body.Close()
			var body struct {
				Error struct{ Code, Message, RequestID string } `json:"error"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status || body.Error.Code != tc.code || resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("HTTP %d %s %+v", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
