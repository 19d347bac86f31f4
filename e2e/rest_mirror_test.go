package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"sync"
	"testing"
	"time"

	"go.uber.org/fx"

	httpadapter "github.com/diminuendo/diminuendo/adapters/http"
	apiclient "github.com/diminuendo/diminuendo/api/client"
	"github.com/diminuendo/diminuendo/domain"
)

// requireError checks r is the API's error body with status and code.
func requireError(t *testing.T, r interface{ StatusCode() int }, err error, status int, code apiclient.ErrorCode) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	body := reflect.ValueOf(r).Elem().FieldByName("Body").Bytes()
	var eb apiclient.ErrorBody
	if jerr := json.Unmarshal(body, &eb); jerr != nil || r.StatusCode() != status || eb.Error.Code != code ||
		eb.Error.Message == "" || eb.Error.RequestId == nil || *eb.Error.RequestId == "" {
		t.Fatalf("want %d %s, got %d %s", status, code, r.StatusCode(), body)
	}
}

// rawJSON sends body (a string, sent as is) to the route.
func rawJSON(t *testing.T, g *gateway, method, path, body string) (int, apiclient.ErrorBody) {
	t.Helper()
	req, err := http.NewRequestWithContext(withTimeout(t, 10*time.Second), method, g.url(path), bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var eb apiclient.ErrorBody
	_ = json.NewDecoder(resp.Body).Decode(&eb)
	return resp.StatusCode, eb
}

// PATCH and DELETE on a session: rename, archive, unarchive, delete, with
// the errors of their WebSocket twins.
func TestRESTSessionUpdateAndDelete(t *testing.T) {
	g := startGateway(t, nil)
	cl := restClient(t, g)
	ctx := withTimeout(t, 30*time.Second)
	id := createREST(t, cl, "echo")

	up, err := cl.UpdateSessionWithResponse(ctx, id, apiclient.UpdateSessionJSONRequestBody{Name: ptr("renamed")})
	if err != nil || up.JSON200 == nil || up.JSON200.Name != "renamed" || up.JSON200.Archived {
		t.Fatalf("rename: %v %s", err, bodyOf(up))
	}
	up, err = cl.UpdateSessionWithResponse(ctx, id, apiclient.UpdateSessionJSONRequestBody{Archived: ptr(true)})
	if err != nil || up.JSON200 == nil || !up.JSON200.Archived || up.JSON200.Name != "renamed" {
		t.Fatalf("archive: %v %s", err, bodyOf(up))
	}
	ls, err := cl.ListSessionsWithResponse(ctx, nil)
	if err != nil || ls.JSON200 == nil || len(ls.JSON200.Sessions) != 0 {
		t.Fatalf("an archived session is listed by default: %v %s", err, bodyOf(ls))
	}
	// An archived session runs no turns.
	tr, err := cl.RunTurnWithResponse(ctx, id, apiclient.RunTurnJSONRequestBody{Text: "hi"})
	requireError(t, tr, err, http.StatusConflict, apiclient.ErrorCodeINVALIDSTATE)
	up, err = cl.UpdateSessionWithResponse(ctx, id, apiclient.UpdateSessionJSONRequestBody{Name: ptr("both"), Archived: ptr(false)})
	if err != nil || up.JSON200 == nil || up.JSON200.Archived || up.JSON200.Name != "both" {
		t.Fatalf("rename and unarchive: %v %s", err, bodyOf(up))
	}

	// Bad bodies: no field, only unknown fields, an empty or oversized name,
	// a wrong type, not JSON.
	for _, body := range []string{`{}`, `{"colour":"red"}`, `{"name":""}`, `{"name":"` + string(bytes.Repeat([]byte("n"), 201)) + `"}`, `{"archived":"yes"}`, `{`} {
		if status, eb := rawJSON(t, g, http.MethodPatch, "/api/sessions/"+id, body); status != http.StatusBadRequest || eb.Error.Code != apiclient.ErrorCodeINVALIDMESSAGE {
			t.Fatalf("PATCH %s: %d %+v", body, status, eb)
		}
	}
	// A bad name leaves the archived flag alone.
	if status, _ := rawJSON(t, g, http.MethodPatch, "/api/sessions/"+id, `{"name":"\u0000bad\xff","archived":true}`); status != http.StatusBadRequest {
		t.Fatalf("bad name: %d", status)
	}
	if gs, err := cl.GetSessionWithResponse(ctx, id); err != nil || gs.JSON200 == nil || gs.JSON200.Archived {
		t.Fatalf("after a refused PATCH: %v %s", err, bodyOf(gs))
	}

	del, err := cl.DeleteSessionWithResponse(ctx, id)
	if err != nil || del.StatusCode() != http.StatusNoContent || len(del.Body) != 0 {
		t.Fatalf("delete: %v %s", err, bodyOf(del))
	}
	gone, err := cl.GetSessionWithResponse(ctx, id)
	requireError(t, gone, err, http.StatusNotFound, apiclient.ErrorCodeSESSIONNOTFOUND)
	again, err := cl.DeleteSessionWithResponse(ctx, id)
	requireError(t, again, err, http.StatusNotFound, apiclient.ErrorCodeSESSIONNOTFOUND)
}

// Every session route answers SESSION_NOT_FOUND for a session that does not
// exist (or belongs to another tenant).
func TestRESTMissingSession(t *testing.T) {
	g := startGateway(t, nil)
	cl := restClient(t, g)
	ctx := withTimeout(t, 30*time.Second)
	const id = "ses_missing"
	nf := func(r interface{ StatusCode() int }, err error) {
		t.Helper()
		requireError(t, r, err, http.StatusNotFound, apiclient.ErrorCodeSESSIONNOTFOUND)
	}
	r1, err := cl.UpdateSessionWithResponse(ctx, id, apiclient.UpdateSessionJSONRequestBody{Name: ptr("x")})
	nf(r1, err)
	r2, err := cl.DeleteSessionWithResponse(ctx, id)
	nf(r2, err)
	r3, err := cl.StopTurnWithResponse(ctx, id)
	nf(r3, err)
	r4, err := cl.SteerTurnWithResponse(ctx, id, apiclient.SteerTurnJSONRequestBody{Text: "x"})
	nf(r4, err)
	r5, err := cl.AnswerQuestionWithResponse(ctx, id, apiclient.AnswerQuestionJSONRequestBody{PromptId: "p", Approved: ptr(true)})
	nf(r5, err)
	r6, err := cl.GetEventsWithResponse(ctx, id, nil)
	nf(r6, err)
	r7, err := cl.GetHistoryWithResponse(ctx, id, nil)
	nf(r7, err)
	r8, err := cl.RunTurnWithResponse(ctx, id, apiclient.RunTurnJSONRequestBody{Text: "x"})
	nf(r8, err)
}

// Bodies and parameters the contract refuses are INVALID_MESSAGE, whether
// the validator or the use case refuses them.
func TestRESTBadInput(t *testing.T) {
	g := startGateway(t, nil)
	cl := restClient(t, g)
	ctx := withTimeout(t, 30*time.Second)
	id := createREST(t, cl, "echo")
	for _, tc := range []struct{ method, path, body string }{
		{http.MethodPost, "/api/sessions/" + id + "/steer", `{}`},
		{http.MethodPost, "/api/sessions/" + id + "/steer", `{"text":""}`},
		{http.MethodPost, "/api/sessions/" + id + "/steer", `{"text":7}`},
		{http.MethodPost, "/api/sessions/" + id + "/answers", `{"approved":true}`},
		{http.MethodPost, "/api/sessions/" + id + "/answers", `{"promptId":"p","answers":[1]}`},
		{http.MethodPost, "/api/sessions/" + id + "/answers", `not json`},
		{http.MethodGet, "/api/sessions/" + id + "/events?afterSeq=-1", ``},
		{http.MethodGet, "/api/sessions/" + id + "/events?afterSeq=x", ``},
		{http.MethodGet, "/api/sessions/" + id + "/events?limit=0", ``},
		{http.MethodGet, "/api/sessions/" + id + "/events?limit=1001", ``},
		{http.MethodGet, "/api/sessions/" + id + "/history?limit=0", ``},
		{http.MethodGet, "/api/sessions/" + id + "/history?limit=101", ``},
		{http.MethodPost, "/api/members", `{"role":"viewer"}`},
		{http.MethodPost, "/api/members", `{"userId":"u-1","role":"emperor"}`},
		{http.MethodPatch, "/api/members/u-1", `{}`},
		{http.MethodGet, "/api/sessions/" + id + "/files/content", ``},
		{http.MethodGet, "/api/sessions/" + id + "/files/at?path=a.txt", ``},
		{http.MethodGet, "/api/sessions/" + id + "/files/at?path=a.txt&iteration=0", ``},
		{http.MethodGet, "/api/sessions/" + id + "/files?depth=-1", ``},
	} {
		if status, eb := rawJSON(t, g, tc.method, tc.path, tc.body); status != http.StatusBadRequest || eb.Error.Code != apiclient.ErrorCodeINVALIDMESSAGE || eb.Error.RequestId == nil {
			t.Errorf("%s %s %s: %d %+v", tc.method, tc.path, tc.body, status, eb)
		}
	}
	// With no turn running, steering is the wrong state.
	st, err := cl.SteerTurnWithResponse(ctx, id, apiclient.SteerTurnJSONRequestBody{Text: "x"})
	requireError(t, st, err, http.StatusConflict, apiclient.ErrorCodeINVALIDSTATE)
}

// GET .../events pages the sequenced log; GET .../history folds it into
// turns and pages them with beforeTurnId.
func TestRESTEventsAndHistory(t *testing.T) {
	g := startGateway(t, nil)
	cl := restClient(t, g)
	ctx := withTimeout(t, 30*time.Second)
	id := createREST(t, cl, "echo")

	empty, err := cl.GetEventsWithResponse(ctx, id, nil)
	if err != nil || empty.JSON200 == nil || len(empty.JSON200.Events) != 0 || empty.JSON200.HasMore || empty.JSON200.Epoch == "" {
		t.Fatalf("events of a new session: %v %s", err, bodyOf(empty))
	}
	var last uint64
	for _, text := range []string{"one", "two", "three"} {
		runREST(t, cl, id, text)
		last = waitForEvent(t, cl, id, "turn_complete", last)
	}
	evs := allEvents(t, cl, id)
	requireGapless(t, evs, 1)

	after, limit := int64(2), 3
	page, err := cl.GetEventsWithResponse(ctx, id, &apiclient.GetEventsParams{AfterSeq: &after, Limit: &limit})
	if err != nil || page.JSON200 == nil {
		t.Fatalf("page: %v %s", err, bodyOf(page))
	}
	p := page.JSON200
	if len(p.Events) != 3 || !p.HasMore || p.LatestSeq != int64(seqOf(evs[len(evs)-1])) || p.SessionId != id {
		t.Fatalf("page after 2: %s", page.Body)
	}
	// Events are the SessionEvent union: the type selects the generated
	// struct, and every sequenced one has the envelope's fields.
	typ, err := p.Events[0].Discriminator()
	if err != nil || typ != evs[2]["type"] {
		t.Fatalf("typed event: %q %v, want %v", typ, err, evs[2]["type"])
	}
	v, err := p.Events[0].ValueByDiscriminator()
	if err != nil {
		t.Fatalf("typed event: %v", err)
	}
	if ev := reflect.ValueOf(v); ev.FieldByName("Seq").Int() != 3 || ev.FieldByName("SessionId").String() != id {
		t.Fatalf("typed event: %+v", v)
	}
	end := p.LatestSeq
	tail, err := cl.GetEventsWithResponse(ctx, id, &apiclient.GetEventsParams{AfterSeq: &end})
	if err != nil || tail.JSON200 == nil || len(tail.JSON200.Events) != 0 || tail.JSON200.HasMore {
		t.Fatalf("past the end: %v %s", err, bodyOf(tail))
	}

	h, err := cl.GetHistoryWithResponse(ctx, id, nil)
	if err != nil || h.JSON200 == nil || len(h.JSON200.Turns) != 3 || h.JSON200.HasMore || h.JSON200.SessionId != id {
		t.Fatalf("history: %v %s", err, bodyOf(h))
	}
	for i, want := range []string{"one", "two", "three"} {
		tn := h.JSON200.Turns[i]
		if tn.UserText != want || tn.FinalText != want || tn.Status != apiclient.TurnStatusComplete ||
			tn.StopReason == nil || *tn.StopReason != apiclient.TurnStopReasonEndTurn || tn.FirstSeq < 1 || tn.LastSeq < tn.FirstSeq {
			t.Fatalf("turn %d: %+v", i, tn)
		}
	}
	one := 1
	before := h.JSON200.Turns[2].TurnId
	older, err := cl.GetHistoryWithResponse(ctx, id, &apiclient.GetHistoryParams{BeforeTurnId: &before, Limit: &one})
	if err != nil || older.JSON200 == nil || len(older.JSON200.Turns) != 1 || older.JSON200.Turns[0].UserText != "two" || !older.JSON200.HasMore {
		t.Fatalf("history before the last turn: %v %s", err, bodyOf(older))
	}
	unknown := "turn_nope"
	nf, err := cl.GetHistoryWithResponse(ctx, id, &apiclient.GetHistoryParams{BeforeTurnId: &unknown})
	requireError(t, nf, err, http.StatusNotFound, apiclient.ErrorCodeNOTFOUND)
}

// The members routes mirror manage_members, guards included.
func TestRESTMembers(t *testing.T) {
	g := startGateway(t, nil)
	cl := restClient(t, g)
	ctx := withTimeout(t, 30*time.Second)

	ls, err := cl.ListMembersWithResponse(ctx)
	if err != nil || ls.JSON200 == nil || len(ls.JSON200.Members) != 0 {
		t.Fatalf("fresh tenant: %v %s", err, bodyOf(ls))
	}
	add, err := cl.AddMemberWithResponse(ctx, apiclient.AddMemberJSONRequestBody{UserId: "u-2", Email: ptr("two@example.com"), Role: apiclient.RoleDeveloper})
	if err != nil || add.StatusCode() != http.StatusCreated || add.JSON201 == nil || len(add.JSON201.Members) != 1 {
		t.Fatalf("add: %v %s", err, bodyOf(add))
	}
	if m := add.JSON201.Members[0]; m.UserId != "u-2" || m.Role != apiclient.RoleDeveloper || m.Email != "two@example.com" || m.AddedAt.IsZero() {
		t.Fatalf("added member: %+v", m)
	}
	dup, err := cl.AddMemberWithResponse(ctx, apiclient.AddMemberJSONRequestBody{UserId: "u-2", Role: apiclient.RoleViewer})
	requireError(t, dup, err, http.StatusConflict, apiclient.ErrorCodeINVALIDSTATE)
	badID, err := cl.AddMemberWithResponse(ctx, apiclient.AddMemberJSONRequestBody{UserId: "no spaces", Role: apiclient.RoleViewer})
	requireError(t, badID, err, http.StatusBadRequest, apiclient.ErrorCodeINVALIDMESSAGE)

	up, err := cl.UpdateMemberWithResponse(ctx, "u-2", apiclient.UpdateMemberJSONRequestBody{Role: apiclient.RoleAdmin})
	if err != nil || up.JSON200 == nil || len(up.JSON200.Members) != 1 || up.JSON200.Members[0].Role != apiclient.RoleAdmin ||
		up.JSON200.Members[0].Email != "two@example.com" {
		t.Fatalf("update: %v %s", err, bodyOf(up))
	}
	missing, err := cl.UpdateMemberWithResponse(ctx, "u-9", apiclient.UpdateMemberJSONRequestBody{Role: apiclient.RoleViewer})
	requireError(t, missing, err, http.StatusNotFound, apiclient.ErrorCodeNOTFOUND)

	// The last owner stays.
	if _, err := cl.AddMemberWithResponse(ctx, apiclient.AddMemberJSONRequestBody{UserId: "u-o", Role: apiclient.RoleOwner}); err != nil {
		t.Fatal(err)
	}
	demote, err := cl.UpdateMemberWithResponse(ctx, "u-o", apiclient.UpdateMemberJSONRequestBody{Role: apiclient.RoleViewer})
	requireError(t, demote, err, http.StatusConflict, apiclient.ErrorCodeINVALIDSTATE)

	rm, err := cl.RemoveMemberWithResponse(ctx, "u-2")
	if err != nil || rm.JSON200 == nil || len(rm.JSON200.Members) != 1 || rm.JSON200.Members[0].UserId != "u-o" {
		t.Fatalf("remove: %v %s", err, bodyOf(rm))
	}
	again, err := cl.RemoveMemberWithResponse(ctx, "u-2")
	requireError(t, again, err, http.StatusNotFound, apiclient.ErrorCodeNOTFOUND)
}

// Without a files use case the file routes say so; with one they hand it
// the caller, the session and the parameters, and render what it returns.
func TestRESTFiles(t *testing.T) {
	t.Run("unavailable", func(t *testing.T) {
		g := startGateway(t, nil)
		cl := restClient(t, g)
		id := createREST(t, cl, "echo")
		r, err := cl.ListFilesWithResponse(withTimeout(t, 10*time.Second), id, nil)
		requireError(t, r, err, http.StatusNotFound, apiclient.ErrorCodeNOTFOUND)
	})

	f := &fakeFiles{}
	g := startGateway(t, nil, fx.Invoke(func(s *httpadapter.Server) { s.WithFiles(f) }))
	cl := restClient(t, g)
	ctx := withTimeout(t, 30*time.Second)

	dir, depth := "src", 2
	ls, err := cl.ListFilesWithResponse(ctx, "ses_f", &apiclient.ListFilesParams{Path: &dir, Depth: &depth})
	if err != nil || ls.JSON200 == nil || ls.JSON200.Path != "src" || ls.JSON200.SessionId != "ses_f" || len(ls.JSON200.Entries) != 2 ||
		ls.JSON200.Entries[0] != (apiclient.FileEntry{Path: "src/a.go", Name: "a.go", Type: apiclient.FileEntryTypeFile, Size: 3, Iteration: 2}) {
		t.Fatalf("list: %v %s", err, bodyOf(ls))
	}
	if f.lastCall() != "list dev ses_f src 2" {
		t.Fatalf("list call: %q", f.lastCall())
	}
	root, err := cl.ListFilesWithResponse(ctx, "ses_f", nil)
	if err != nil || root.JSON200 == nil || f.lastCall() != "list dev ses_f  0" {
		t.Fatalf("list root: %v %s %q", err, bodyOf(root), f.lastCall())
	}
	rd, err := cl.ReadFileWithResponse(ctx, "ses_f", &apiclient.ReadFileParams{Path: "/src/a.go"})
	if err != nil || rd.JSON200 == nil || *rd.JSON200 != (apiclient.FileContent{SessionId: "ses_f", Path: "src/a.go", Content: "abc",
		Encoding: apiclient.FileContentEncodingUtf8, Size: 3, Hash: "h2", Iteration: 2}) || f.lastCall() != "read dev ses_f /src/a.go" {
		t.Fatalf("read: %v %s %q", err, bodyOf(rd), f.lastCall())
	}
	hi, err := cl.FileHistoryWithResponse(ctx, "ses_f", &apiclient.FileHistoryParams{Path: "src/a.go"})
	if err != nil || hi.JSON200 == nil || hi.JSON200.Path != "src/a.go" || len(hi.JSON200.Iterations) != 2 ||
		hi.JSON200.Iterations[1] != (apiclient.FileIteration{Iteration: 2, Timestamp: 2000, Size: 3, Hash: "h2"}) {
		t.Fatalf("history: %v %s", err, bodyOf(hi))
	}
	at, err := cl.FileAtIterationWithResponse(ctx, "ses_f", &apiclient.FileAtIterationParams{Path: "src/a.go", Iteration: 1})
	if err != nil || at.JSON200 == nil || at.JSON200.Iteration != 1 || f.lastCall() != "at dev ses_f src/a.go 1" {
		t.Fatalf("at: %v %s %q", err, bodyOf(at), f.lastCall())
	}
	// The use case's errors map like every other.
	nf, err := cl.ReadFileWithResponse(ctx, "ses_missing", &apiclient.ReadFileParams{Path: "a"})
	requireError(t, nf, err, http.StatusNotFound, apiclient.ErrorCodeSESSIONNOTFOUND)
	busy, err := cl.ReadFileWithResponse(ctx, "ses_busy", &apiclient.ReadFileParams{Path: "a"})
	requireError(t, busy, err, http.StatusServiceUnavailable, apiclient.ErrorCodeUPSTREAMUNAVAILABLE)
	if ra := busy.HTTPResponse.Header.Get("Retry-After"); ra != "3" {
		t.Fatalf("Retry-After: %q", ra)
	}
}

// fakeFiles records its last call and serves one file of two iterations.
type fakeFiles struct {
	mu   sync.Mutex
	last string
}

func (f *fakeFiles) record(call string) {
	f.mu.Lock()
	f.last = call
	f.mu.Unlock()
}

func (f *fakeFiles) lastCall() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

var _ httpadapter.Files = (*fakeFiles)(nil)

func (f *fakeFiles) check(sessionID string) error {
	switch sessionID {
	case "ses_missing":
		return domain.ErrSessionNotFound()
	case "ses_busy":
		return &domain.Error{Kind: domain.KindUpstreamUnavailable, Message: "workspace busy", RetryAfter: 2500 * time.Millisecond}
	}
	return nil
}

func (f *fakeFiles) List(_ context.Context, id domain.Identity, sessionID, path string, depth int) ([]domain.FileEntry, error) {
	f.record("list " + id.TenantID + " " + sessionID + " " + path + " " + itoa(int64(depth)))
	return []domain.FileEntry{
		{Path: "src/a.go", Name: "a.go", Type: domain.FileTypeFile, Size: 3, Iteration: 2},
		{Path: "src/lib", Name: "lib", Type: domain.FileTypeDir},
	}, f.check(sessionID)
}

func (f *fakeFiles) Read(_ context.Context, id domain.Identity, sessionID, path string) (domain.FileContent, error) {
	f.record("read " + id.TenantID + " " + sessionID + " " + path)
	return domain.FileContent{Path: "src/a.go", Content: "abc", Encoding: domain.EncodingUTF8, Size: 3, Hash: "h2", Iteration: 2}, f.check(sessionID)
}

func (f *fakeFiles) History(_ context.Context, id domain.Identity, sessionID, path string) ([]domain.FileIteration, error) {
	f.record("history " + id.TenantID + " " + sessionID + " " + path)
	return []domain.FileIteration{{Iteration: 1, Timestamp: 1000, Size: 2, Hash: "h1"}, {Iteration: 2, Timestamp: 2000, Size: 3, Hash: "h2"}}, f.check(sessionID)
}

func (f *fakeFiles) At(_ context.Context, id domain.Identity, sessionID, path string, iteration int64) (domain.FileContent, error) {
	f.record("at " + id.TenantID + " " + sessionID + " " + path + " " + itoa(iteration))
	return domain.FileContent{Path: path, Content: "ab", Encoding: domain.EncodingUTF8, Size: 2, Hash: "h1", Iteration: iteration}, f.check(sessionID)
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
