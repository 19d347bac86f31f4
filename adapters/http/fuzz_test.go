package http_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/diminuendo/diminuendo/adapters/apiconv"
	"github.com/diminuendo/diminuendo/api"
	"github.com/diminuendo/diminuendo/app/config"
	"github.com/diminuendo/diminuendo/gatewaytest"
	"github.com/diminuendo/diminuendo/internal/syncbuf"
)

// bodyOp is one operation of openapi.yaml that takes a JSON request body.
type bodyOp struct {
	method, path string // path with its parameters filled in
	request      *openapi3.Schema
	op           *openapi3.Operation
}

// bodyOps lists every operation with a request body, in a stable order,
// its path parameters set to sessionID or userID.
func bodyOps(tb testing.TB, spec *openapi3.T, sessionID, userID string) []bodyOp {
	tb.Helper()
	var ops []bodyOp
	for _, path := range spec.Paths.InMatchingOrder() {
		item := spec.Paths.Value(path)
		for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			op := item.GetOperation(method)
			if op == nil || op.RequestBody == nil || op.RequestBody.Value == nil {
				continue
			}
			mt := op.RequestBody.Value.Content.Get("application/json")
			if mt == nil || mt.Schema == nil {
				tb.Fatalf("%s %s: a request body that is not JSON", method, path)
			}
			p := strings.NewReplacer("{sessionId}", sessionID, "{userId}", userID).Replace(path)
			if strings.Contains(p, "{") {
				tb.Fatalf("%s %s: a path parameter the fuzz target does not fill", method, path)
			}
			ops = append(ops, bodyOp{method: method, path: p, request: mt.Schema.Value, op: op})
		}
	}
	if len(ops) < 7 {
		tb.Fatalf("found %d operations with a request body, want at least 7", len(ops))
	}
	return ops
}

// FuzzRESTBodies sends each input as the JSON body of one of the operations
// of openapi.yaml that take one (chosen by op), to a whole gateway in dev
// mode through its real listener, Echo, the OpenAPI validator and the strict
// handlers, and checks the answer:
//   - never a 5xx, but a 503 UPSTREAM_UNAVAILABLE or CAPACITY_EXCEEDED;
//   - an error is an ErrorBody whose code is from the closed set;
//   - a success has the operation's documented status and response schema,
//     and was given a body that matches the request schema exactly (keys
//     included: a key matching a field but for case is no field);
//   - the gateway logs no error.
func FuzzRESTBodies(f *testing.F) {
	// By op, in bodyOps's order: POST /api/sessions, POST /api/members,
	// POST .../turns, .../steer, .../answers, PATCH /api/sessions/{id},
	// PATCH /api/members/{userId}.
	for op, bodies := range [][]string{
		{`{"agentType":"echo"}`, `{"agentType":"echo","name":"n","projectId":"p"}`, `{"agentType":7}`, `{"agentType":"nope"}`, `{}`},
		{`{"email":"a@example.com","role":"viewer"}`, `{"email":"a","role":"root"}`},
		{`{"text":"hello"}`, `{"text":""}`, `{"text":"hi","TEXT":"there"}`},
		{`{"text":"left"}`, `{"text":null}`},
		{`{"questionId":"q1","answers":{"a":"b"}}`, `{"questionId":"q1","answers":[]}`},
		{`{"name":"renamed"}`, `{"archived":true}`, `{"name":""}`, `{"NAME":"x","name":"y"}`},
		{`{"role":"viewer"}`, `{"role":"owner"}`, `{"Role":"owner","role":"viewer"}`},
	} {
		for _, b := range bodies {
			f.Add(uint8(op), []byte(b))
		}
	}
	for op := range 7 {
		for _, b := range []string{``, `null`, `[]`, `"x"`, `{`, "\xff", `{"a":` + strings.Repeat("[", 64) + `}`} {
			f.Add(uint8(op), []byte(b))
		}
	}

	errLog := &syncbuf.Buffer{}
	gw := gatewaytest.Start(f, gatewaytest.WithDevMode(),
		gatewaytest.WithLogger(slog.New(slog.NewTextHandler(errLog, &slog.HandlerOptions{Level: slog.LevelError}))),
		gatewaytest.WithConfig(func(c *config.Config) {
			// Every request is served (the limit has its own tests): a
			// window of a nanosecond never fills.
			c.RESTRateWindow = time.Nanosecond
		}))
	client := &http.Client{Timeout: 30 * time.Second}
	sessionID := createSession(f, client, gw.URL)
	spec, err := api.GetSpec()
	if err != nil {
		f.Fatal(err)
	}
	ops := bodyOps(f, spec, sessionID, "u-fuzz")
	errorBody := spec.Components.Schemas["ErrorBody"].Value
	codes := errorCodes(f, spec)

	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		op := ops[int(which)%len(ops)]
		req, err := http.NewRequest(op.method, gw.URL+op.path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", op.method, op.path, err)
		}
		out, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			t.Fatalf("reading the answer: %v", err)
		}
		var got any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%s %s: %d answer is not JSON: %q", op.method, op.path, resp.StatusCode, out)
		}
		if resp.StatusCode >= 400 {
			if err := errorBody.VisitJSON(got); err != nil {
				t.Fatalf("%s %s: %d answer is not an ErrorBody (%v): %s", op.method, op.path, resp.StatusCode, err, out)
			}
			code := got.(map[string]any)["error"].(map[string]any)["code"].(string)
			if !codes[code] {
				t.Fatalf("code %q is not in the closed set: %s", code, out)
			}
			if resp.StatusCode >= 500 && !(resp.StatusCode == 503 && (code == "UPSTREAM_UNAVAILABLE" || code == "CAPACITY_EXCEEDED")) {
				t.Fatalf("%s %s with %q: %d %s", op.method, op.path, body, resp.StatusCode, out)
			}
		} else {
			documented := op.op.Responses.Status(resp.StatusCode)
			if documented == nil || documented.Value == nil {
				t.Fatalf("%s %s: undocumented status %d: %s", op.method, op.path, resp.StatusCode, out)
			}
			if mt := documented.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil {
				if err := mt.Schema.Value.VisitJSON(got); err != nil {
					t.Fatalf("%s %s: the %d answer does not match its schema (%v): %s", op.method, op.path, resp.StatusCode, err, out)
				}
			}
			var sent any
			if err := json.Unmarshal(body, &sent); err != nil {
				t.Fatalf("%s %s: a body that is not JSON was served (%d): %q", op.method, op.path, resp.StatusCode, body)
			}
			if err := op.request.VisitJSON(sent); err != nil {
				t.Fatalf("%s %s: a body that does not match the request schema was served (%v): %q", op.method, op.path, err, body)
			}
			if key := apiconv.CaseVariantKey(op.request, sent); key != "" {
				t.Fatalf("%s %s: a body with the key %q, a field but for case, was served: %q", op.method, op.path, key, body)
			}
		}
		if errLog.Len() > 0 {
			t.Fatalf("the gateway logged an error for %s %s %q:\n%s", op.method, op.path, body, errLog.String())
		}
	})
}

func createSession(tb testing.TB, client *http.Client, base string) string {
	tb.Helper()
	resp, err := client.Post(base+"/api/sessions", "application/json", strings.NewReader(`{"agentType":"echo"}`))
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var meta struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&meta); err != nil || resp.StatusCode != http.StatusCreated || meta.ID == "" {
		tb.Fatalf("creating a session: %d %v", resp.StatusCode, err)
	}
	return meta.ID
}

func errorCodes(tb testing.TB, spec *openapi3.T) map[string]bool {
	tb.Helper()
	out := map[string]bool{}
	for _, v := range spec.Components.Schemas["ErrorCode"].Value.Enum {
		out[v.(string)] = true
	}
	if len(out) == 0 {
		tb.Fatal("openapi.yaml has no ErrorCode values")
	}
	return out
}
