package unisonsim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/diminuendo/diminuendo/adapters/simkit"
)

const (
	pathHealth = "/api/v1/health"
	pathReady  = "/api/v1/ready"
	pathBatch  = "/api/v1/batch"
	prefixKV   = "/api/v1/kv/"
)

func (s *Sim) serve(w http.ResponseWriter, r *http.Request) {
	if s.faults.Refusing() {
		simkit.Drop(w, CodeInjected)
		return
	}
	if !s.faults.Delay(r) {
		return
	}
	// Routing works on the escaped path: a namespace such as
	// "tenant:acme/sessions" travels as one segment with its "/" escaped,
	// and must not be split or cleaned the way http.ServeMux would.
	path := r.URL.EscapedPath()
	if path == pathHealth || path == pathReady {
		s.serveHealth(w, r)
		return
	}
	s.requests.Add(1)
	if !simkit.Admit(w, r, s.opts.APIKey) || s.faults.Fail(w, CodeInjected) {
		return
	}
	if path == pathBatch {
		if r.Method != http.MethodPost {
			notAllowed(w, http.MethodPost)
			return
		}
		s.serveBatch(w, r)
		return
	}
	rest, ok := strings.CutPrefix(path, prefixKV)
	if !ok {
		simkit.WriteError(w, http.StatusNotFound, CodeNotFound, "no such route")
		return
	}
	segs := strings.Split(rest, "/")
	for i, seg := range segs {
		u, err := url.PathUnescape(seg)
		if err != nil {
			simkit.WriteError(w, http.StatusBadRequest, CodeInvalidRequest, "malformed path escape")
			return
		}
		segs[i] = u
	}
	for _, name := range segs[:min(len(segs), 2)] {
		if name == "" || len(name) > MaxKeyBytes {
			simkit.WriteError(w, http.StatusBadRequest, CodeInvalidRequest, "namespace and key must be 1 to 512 bytes")
			return
		}
	}
	switch {
	case len(segs) == 1 && r.Method == http.MethodGet:
		s.serveList(w, r, segs[0])
	case len(segs) == 1:
		notAllowed(w, http.MethodGet)
	case len(segs) == 2:
		switch r.Method {
		case http.MethodGet:
			s.serveGet(w, segs[0], segs[1])
		case http.MethodPut:
			s.servePut(w, r, segs[0], segs[1])
		case http.MethodDelete:
			s.serveDelete(w, r, segs[0], segs[1])
		default:
			notAllowed(w, "GET, PUT, DELETE")
		}
	case len(segs) == 3 && segs[2] == "versions" && r.Method == http.MethodGet:
		s.serveVersions(w, segs[0], segs[1])
	default:
		simkit.WriteError(w, http.StatusNotFound, CodeNotFound, "no such route")
	}
}

func (s *Sim) serveHealth(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		notAllowed(w, http.MethodGet)
		return
	}
	if s.unhealthy.Load() {
		simkit.WriteJSON(w, http.StatusServiceUnavailable, map[string]bool{"ok": false})
		return
	}
	simkit.WriteJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

func (s *Sim) serveGet(w http.ResponseWriter, ns, key string) {
	e, ok := s.store.get(ns, key)
	if !ok {
		simkit.WriteError(w, http.StatusNotFound, CodeNotFound, "key not found")
		return
	}
	simkit.WriteJSON(w, http.StatusOK, e)
}

func (s *Sim) serveVersions(w http.ResponseWriter, ns, key string) {
	items, ok := s.store.versions(ns, key)
	if !ok {
		simkit.WriteError(w, http.StatusNotFound, CodeNotFound, "key not found")
		return
	}
	simkit.WriteJSON(w, http.StatusOK, map[string]any{"items": items})
}

// serveList pages through a namespace in key order. The cursor is the last
// key of the previous page, opaque to clients.
func (s *Sim) serveList(w http.ResponseWriter, r *http.Request, ns string) {
	q := r.URL.Query()
	limit := DefaultPageSize
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPageSize {
			simkit.WriteError(w, http.StatusBadRequest, CodeInvalidRequest, "limit must be 1 to 1000")
			return
		}
		limit = n
	}
	after := ""
	if c := q.Get("cursor"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil {
			simkit.WriteError(w, http.StatusBadRequest, CodeInvalidRequest, "malformed cursor")
			return
		}
		after = string(b)
	}
	items, more := s.store.list(ns, q.Get("prefix"), after, limit)
	next := ""
	if more {
		next = base64.RawURLEncoding.EncodeToString([]byte(items[len(items)-1].Key))
	}
	simkit.WriteJSON(w, http.StatusOK, map[string]any{"items": items, "nextCursor": next})
}

func (s *Sim) servePut(w http.ResponseWriter, r *http.Request, ns, key string) {
	var body putBody
	if !decodeBody(w, r, maxBodyBytes, &body) {
		return
	}
	value, ok := checkValue(w, body.Value)
	if !ok {
		return
	}
	out, err := s.store.apply([]op{{ns: ns, key: key, value: value, cas: body.CAS}}, actorOr(body.Actor))
	if s.writeApplied(w, err, false) {
		simkit.WriteJSON(w, http.StatusOK, out[0])
	}
}

func (s *Sim) serveDelete(w http.ResponseWriter, r *http.Request, ns, key string) {
	q := r.URL.Query()
	o := op{del: true, ns: ns, key: key}
	if v := q.Get("cas"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			simkit.WriteError(w, http.StatusBadRequest, CodeInvalidRequest, "cas must be a version number")
			return
		}
		o.cas = &n
	}
	_, err := s.store.apply([]op{o}, actorOr(q.Get("actor")))
	if s.writeApplied(w, err, false) {
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Sim) serveBatch(w http.ResponseWriter, r *http.Request) {
	var body batchBody
	if !decodeBody(w, r, maxBatchBodyBytes, &body) {
		return
	}
	if n := len(body.Operations); n == 0 || n > MaxBatchOps {
		simkit.WriteError(w, http.StatusBadRequest, CodeInvalidRequest, "a batch holds 1 to 100 operations")
		return
	}
	ops := make([]op, len(body.Operations))
	for i, b := range body.Operations {
		if b.Namespace == "" || b.Key == "" || len(b.Namespace) > MaxKeyBytes || len(b.Key) > MaxKeyBytes {
			simkit.WriteError(w, http.StatusBadRequest, CodeInvalidRequest, "namespace and key must be 1 to 512 bytes")
			return
		}
		o := op{ns: b.Namespace, key: b.Key, cas: b.CAS}
		switch b.Op {
		case "set":
			v, ok := checkValue(w, b.Value)
			if !ok {
				return
			}
			o.value = v
		case "delete":
			o.del = true
		default:
			simkit.WriteError(w, http.StatusBadRequest, CodeInvalidRequest, `op must be "set" or "delete"`)
			return
		}
		ops[i] = o
	}
	out, err := s.store.apply(ops, actorOr(body.Actor))
	if s.writeApplied(w, err, true) {
		simkit.WriteJSON(w, http.StatusOK, map[string]any{"items": out})
	}
}

// writeApplied reports a refused write, or an injected failure after a
// successful one; it returns true when the caller should answer normally.
func (s *Sim) writeApplied(w http.ResponseWriter, err error, batch bool) bool {
	var oe *opError
	if errors.As(err, &oe) {
		writeOpError(w, oe, batch)
		return false
	}
	if status := s.afterApply.Take(); status != 0 {
		simkit.WriteError(w, status, CodeInjected, "write applied, failure injected by the simulator")
		return false
	}
	return true
}

func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	err := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit)).Decode(v)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		simkit.WriteError(w, http.StatusRequestEntityTooLarge, CodeTooLarge, "request body too large")
		return false
	case err != nil:
		simkit.WriteError(w, http.StatusBadRequest, CodeInvalidRequest, "malformed JSON body")
		return false
	}
	return true
}

// checkValue enforces presence and the 1 MiB limit, measured on the value's
// compact JSON, and returns that compact form.
func checkValue(w http.ResponseWriter, raw json.RawMessage) (json.RawMessage, bool) {
	if len(raw) == 0 {
		simkit.WriteError(w, http.StatusBadRequest, CodeInvalidRequest, "value is required")
		return nil, false
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		simkit.WriteError(w, http.StatusBadRequest, CodeInvalidRequest, "value is not JSON")
		return nil, false
	}
	if b.Len() > MaxValueBytes {
		simkit.WriteError(w, http.StatusRequestEntityTooLarge, CodeTooLarge, "value larger than 1 MiB")
		return nil, false
	}
	return b.Bytes(), true
}

func actorOr(a string) string {
	if a == "" {
		return "api"
	}
	return a
}

func notAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	simkit.WriteError(w, http.StatusMethodNotAllowed, CodeMethod, "method not allowed")
}
