package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/diminuendo/diminuendo/api"
)

// Every frame the suite sends or receives is checked against openapi.yaml:
// client messages against ClientMessage, WebSocket frames from the gateway
// against ServerEvent, each SSE event against SseFrame and refused upgrades
// against ErrorBody. A frame that fails fails the test that saw it, and
// TestMain fails the package and prints the tally.
//
// The check is stricter than the published contract in one way: an object
// schema that does not say otherwise is closed here, so a field the gateway
// sends without declaring it fails. The contract itself stays open, so that
// clients built on it accept fields added later.

// Directions of the tally.
const (
	dirSent     = "sent"
	dirReceived = "received"
	dirSSE      = "sse"
	dirRefused  = "refused"
)

type frameSchemas struct {
	byDir map[string]*openapi3.Schema

	mu       sync.Mutex
	frames   map[string]int
	types    map[string]map[string]bool
	failures int
}

var (
	schemasOnce sync.Once
	schemas     *frameSchemas
	schemasErr  error
)

// frameCheck returns the compiled schemas, loaded once per test binary.
func frameCheck() (*frameSchemas, error) {
	schemasOnce.Do(func() {
		spec, err := api.GetSpec()
		if err != nil {
			schemasErr = err
			return
		}
		closeObjects(spec.Components.Schemas)
		fs := &frameSchemas{byDir: map[string]*openapi3.Schema{}, frames: map[string]int{}, types: map[string]map[string]bool{}}
		for dir, name := range map[string]string{dirSent: "ClientMessage", dirReceived: "ServerEvent", dirSSE: "SseFrame", dirRefused: "ErrorBody"} {
			ref := spec.Components.Schemas[name]
			if ref == nil || ref.Value == nil {
				schemasErr = fmt.Errorf("openapi.yaml has no schema %s", name)
				return
			}
			fs.byDir[dir] = ref.Value
		}
		schemas = fs
	})
	return schemas, schemasErr
}

// closeObjects marks every object schema with properties and no word on
// additional properties as allowing none.
func closeObjects(all openapi3.Schemas) {
	seen := map[*openapi3.Schema]bool{}
	var walk func(*openapi3.SchemaRef)
	walk = func(r *openapi3.SchemaRef) {
		if r == nil || r.Value == nil || seen[r.Value] {
			return
		}
		s := r.Value
		seen[s] = true
		if len(s.Properties) > 0 && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
			no := false
			s.AdditionalProperties.Has = &no
		}
		for _, p := range s.Properties {
			walk(p)
		}
		walk(s.Items)
		walk(s.AdditionalProperties.Schema)
		for _, l := range []openapi3.SchemaRefs{s.OneOf, s.AnyOf, s.AllOf} {
			for _, x := range l {
				walk(x)
			}
		}
	}
	for _, r := range all {
		walk(r)
	}
}

// checkFrame validates one decoded frame for dir and records it; the error
// says what failed.
func checkFrame(dir string, v any) error {
	fs, err := frameCheck()
	if err != nil {
		return err
	}
	err = fs.byDir[dir].VisitJSON(v)
	fs.record(dir, typeOf(dir, v), err != nil)
	return describe(dir, v, err)
}

// validateFrame validates without recording.
func validateFrame(dir string, v any) error {
	fs, err := frameCheck()
	if err != nil {
		return err
	}
	return describe(dir, v, fs.byDir[dir].VisitJSON(v))
}

func describe(dir string, v any, err error) error {
	if err != nil {
		b, _ := json.Marshal(v)
		return fmt.Errorf("%s frame does not match openapi.yaml: %s\nframe: %.2000s", dir, schemaReason(err), b)
	}
	return nil
}

// schemaReason is where and why validation failed, without the schema dump
// kin-openapi's message carries.
func schemaReason(err error) string {
	var se *openapi3.SchemaError
	if !errors.As(err, &se) {
		return err.Error()
	}
	// A union's error wraps the member's, which says what is wrong.
	for {
		var inner *openapi3.SchemaError
		if se.Origin == nil || !errors.As(se.Origin, &inner) {
			break
		}
		se = inner
	}
	return fmt.Sprintf("at /%s: %s", strings.Join(se.JSONPointer(), "/"), se.Reason)
}

func typeOf(dir string, v any) string {
	m, _ := v.(map[string]any)
	switch dir {
	case dirSSE:
		m, _ = m["data"].(map[string]any)
	case dirRefused:
		m, _ = m["error"].(map[string]any)
		s, _ := m["code"].(string)
		return s
	}
	s, _ := m["type"].(string)
	return s
}

func (fs *frameSchemas) record(dir, typ string, failed bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.frames[dir]++
	if failed {
		fs.failures++
		return
	}
	if fs.types[dir] == nil {
		fs.types[dir] = map[string]bool{}
	}
	fs.types[dir][typ] = true
}

// frameSummary is the tally printed after the suite, and whether any frame
// failed.
func frameSummary() (string, bool) {
	fs := schemas
	if fs == nil {
		return "frame schema check: no frames", false
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	total := 0
	all := map[string]bool{}
	var parts []string
	for _, dir := range []string{dirSent, dirReceived, dirSSE, dirRefused} {
		total += fs.frames[dir]
		var ts []string
		for t := range fs.types[dir] {
			ts = append(ts, t)
			if dir != dirRefused {
				all[t] = true
			}
		}
		sort.Strings(ts)
		parts = append(parts, fmt.Sprintf("%s %d frames of %d types", dir, fs.frames[dir], len(ts)))
	}
	return fmt.Sprintf("frame schema check: %d frames, %d message and event types, %d failures (%s)\n"+
		"frame schema check: not exchanged by the suite: client messages [%s], server frames [%s]",
		total, len(all), fs.failures, strings.Join(parts, "; "),
		strings.Join(fs.unseenLocked(dirSent), " "), strings.Join(fs.unseenLocked(dirReceived), " ")), fs.failures > 0
}

// unseenLocked lists the types of dir's union no valid frame had.
func (fs *frameSchemas) unseenLocked(dir string) []string {
	var out []string
	for typ := range fs.byDir[dir].Discriminator.Mapping {
		if !fs.types[dir][typ] {
			out = append(out, typ)
		}
	}
	sort.Strings(out)
	return out
}

// checkSent validates a client message the test means to be valid.
func checkSent(t *testing.T, b []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Errorf("sent frame is not JSON: %s", b)
		return
	}
	if err := checkFrame(dirSent, v); err != nil {
		t.Error(err)
	}
}

// checkReceived validates a frame read from the gateway's WebSocket.
func checkReceived(t *testing.T, v any) {
	t.Helper()
	if err := checkFrame(dirReceived, v); err != nil {
		t.Error(err)
	}
}

// checkSSE validates one event of a stream: its id and event lines with
// its data.
func checkSSE(t *testing.T, ev sseEvent) {
	t.Helper()
	frame := map[string]any{"event": ev.Event, "data": map[string]any(ev.Data)}
	if ev.ID != "" {
		id, err := strconv.ParseUint(ev.ID, 10, 64)
		if err != nil {
			t.Errorf("SSE id %q is not a seq", ev.ID)
			return
		}
		frame["id"] = float64(id) // as JSON decodes numbers
	}
	if err := checkFrame(dirSSE, frame); err != nil {
		t.Error(err)
	}
}

// checkRefused validates the error body of a refused request.
func checkRefused(t *testing.T, body []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Errorf("error body is not JSON: %s", body)
		return
	}
	if err := checkFrame(dirRefused, v); err != nil {
		t.Error(err)
	}
}

// The check itself refuses what it must: unknown types, missing and
// undeclared fields, wrong field types, and a union member's own rules.
func TestFrameSchemaCheckRefusesBadFrames(t *testing.T) {
	good := map[string]map[string]any{
		dirReceived: {"type": "text_delta", "sessionId": "s", "seq": 3.0, "ts": 1.0, "turnId": "t", "text": "hi"},
		dirSent:     {"type": "join_session", "sessionId": "s", "afterSeq": 2.0, "requestId": "j"},
		dirSSE:      {"id": 3.0, "event": "text_delta", "data": map[string]any{"type": "text_delta", "sessionId": "s", "seq": 3.0, "ts": 1.0, "text": "hi"}},
		dirRefused:  {"error": map[string]any{"code": "FORBIDDEN", "message": "no"}},
	}
	for dir, v := range good {
		if err := validateFrame(dir, v); err != nil {
			t.Errorf("%s: a valid frame was refused: %v", dir, err)
		}
	}
	bad := []struct {
		dir, why string
		v        map[string]any
	}{
		{dirReceived, "unknown type", map[string]any{"type": "text_deltas", "sessionId": "s", "seq": 3.0, "ts": 1.0, "text": "hi"}},
		{dirReceived, "missing field", map[string]any{"type": "text_delta", "sessionId": "s", "seq": 3.0, "ts": 1.0}},
		{dirReceived, "undeclared field", map[string]any{"type": "text_delta", "sessionId": "s", "seq": 3.0, "ts": 1.0, "text": "hi", "extra": 1.0}},
		{dirReceived, "wrong field type", map[string]any{"type": "text_delta", "sessionId": "s", "seq": "3", "ts": 1.0, "text": "hi"}},
		{dirReceived, "seq below 1", map[string]any{"type": "text_delta", "sessionId": "s", "seq": 0.0, "ts": 1.0, "text": "hi"}},
		{dirReceived, "nested field", map[string]any{"type": "session_created", "session": map[string]any{"id": "s"}}},
		{dirReceived, "unknown error code", map[string]any{"type": "error", "code": "OOPS", "message": "m"}},
		{dirReceived, "bad pending prompt", map[string]any{"type": "state_snapshot", "sessionId": "s", "session": map[string]any{
			"id": "s", "name": "n", "agentType": "echo", "projectId": "", "state": "ready", "archived": false, "createdBy": "u",
			"createdAt": 1.0, "updatedAt": 1.0, "epoch": "e", "latestSeq": 0.0,
		}, "state": "ready", "epoch": "e", "latestSeq": 0.0, "replayComplete": true, "pendingPrompts": []any{map[string]any{"type": "permission_requested"}}}},
		{dirSent, "unknown message", map[string]any{"type": "launch"}},
		{dirSent, "missing field", map[string]any{"type": "run_turn", "sessionId": "s"}},
		{dirSent, "misspelt field", map[string]any{"type": "join_session", "sessionID": "s"}},
		{dirSent, "limit out of range", map[string]any{"type": "get_events", "sessionId": "s", "afterSeq": 0.0, "limit": 1001.0}},
		{dirSSE, "data of another type", map[string]any{"event": "text_delta", "data": map[string]any{"type": "pong", "ts": 1.0, "serverTs": 1.0}}},
		{dirRefused, "not an error body", map[string]any{"code": "FORBIDDEN", "message": "no"}},
	}
	for _, b := range bad {
		if err := validateFrame(b.dir, b.v); err == nil {
			t.Errorf("%s: %s was accepted: %v", b.dir, b.why, b.v)
		}
	}
}
