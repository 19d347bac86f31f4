package unison

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strconv"

	"github.com/diminuendo/diminuendo/adapters/upstream"
	"github.com/diminuendo/diminuendo/domain"
)

// Actor is how the gateway signs its writes (updatedBy).
const Actor = "diminuendo"

// maxListEntries bounds List, which follows cursors to the end: a tenant
// with more is refused rather than loaded into memory.
const maxListEntries = 10_000

// listPageSize is what List asks for per page.
const listPageSize = 500

// Entry is one stored value with its metadata.
type Entry struct {
	Namespace string          `json:"namespace"`
	Key       string          `json:"key"`
	Value     json.RawMessage `json:"value"`
	Version   int64           `json:"version"`
	UpdatedBy string          `json:"updatedBy"`
	UpdatedAt int64           `json:"updatedAt"`
	ExpiresAt *int64          `json:"expiresAt"`
}

// Cond is the precondition of a write.
type Cond struct {
	set     bool
	version int64
}

// Always writes unconditionally.
func Always() Cond { return Cond{} }

// IfAbsent writes only if the key does not exist (cas 0).
func IfAbsent() Cond { return Cond{set: true} }

// IfVersion writes only if the key's current version is v. v must be
// positive: version 0 means absent, which is IfAbsent.
func IfVersion(v int64) Cond { return Cond{set: true, version: v} }

func (c Cond) cas() *int64 {
	if !c.set {
		return nil
	}
	return &c.version
}

// Page is one page of a listing; NextCursor is "" on the last.
type Page struct {
	Items      []Entry `json:"items"`
	NextCursor string  `json:"nextCursor"`
}

// ListQuery selects a page; a zero Limit lets Unison choose.
type ListQuery struct {
	Prefix string
	Limit  int
	Cursor string
}

// Op is one operation of a batch.
type Op struct {
	Delete    bool
	Namespace string
	Key       string
	Value     any
	Cond      Cond
}

// Get returns the entry, or a KindNotFound error.
func (c *Client) Get(ctx context.Context, ns, key string) (Entry, error) {
	var e Entry
	err := c.read(ctx, &e, nil, entryPath(ns, key)...)
	return e, err
}

// Versions returns the versions Unison keeps of a key, newest first.
func (c *Client) Versions(ctx context.Context, ns, key string) ([]Entry, error) {
	var out struct {
		Items []Entry `json:"items"`
	}
	err := c.read(ctx, &out, nil, append(entryPath(ns, key), "versions")...)
	return out.Items, err
}

// ListPage returns one page of a namespace in key order.
func (c *Client) ListPage(ctx context.Context, ns string, q ListQuery) (Page, error) {
	v := url.Values{}
	if q.Prefix != "" {
		v.Set("prefix", q.Prefix)
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Cursor != "" {
		v.Set("cursor", q.Cursor)
	}
	var p Page
	err := c.read(ctx, &p, v, "api", "v1", "kv", ns)
	return p, err
}

// List returns every entry of a namespace with the prefix, in key order.
func (c *Client) List(ctx context.Context, ns, prefix string) ([]Entry, error) {
	var all []Entry
	q := ListQuery{Prefix: prefix, Limit: listPageSize}
	for {
		p, err := c.ListPage(ctx, ns, q)
		if err != nil {
			return nil, err
		}
		all = append(all, p.Items...)
		if len(all) > maxListEntries {
			return nil, domain.E(domain.KindCapacityExceeded, "too many entries to list")
		}
		if p.NextCursor == "" || p.NextCursor == q.Cursor {
			return all, nil
		}
		q.Cursor = p.NextCursor
	}
}

// Put writes value (any JSON-encodable) under cond. A refused condition is
// KindConflict with a *ConflictError cause.
//
// Only conditional writes are retried. Repeating an unconditional write
// could undo a newer write another client made between our attempts;
// repeating a conditional one cannot, because once any attempt lands the
// version has moved and later attempts are refused. That refusal may hide
// our own success (the reply was lost, not the write), so a conflict after a
// retry is checked by reading the key back: if it holds exactly our value,
// signed by us, the write is reported as done.
func (c *Client) Put(ctx context.Context, ns, key string, value any, cond Cond) (Entry, error) {
	raw, err := json.Marshal(value)
	if err != nil {
		return Entry{}, domain.Wrap(domain.KindInternal, "cannot encode unison value", err)
	}
	body := struct {
		Value json.RawMessage `json:"value"`
		Actor string          `json:"actor"`
		CAS   *int64          `json:"cas,omitempty"`
	}{raw, Actor, cond.cas()}
	var e Entry
	attempts, err := c.do(ctx, upstream.Request{Method: http.MethodPut, Path: entryPath(ns, key), Body: body}, cond.set, &e)
	if attempts > 1 && domain.KindOf(err) == domain.KindConflict {
		if e, err := c.Get(ctx, ns, key); err == nil && e.UpdatedBy == Actor && sameJSON(e.Value, raw) {
			return e, nil
		}
	}
	return e, err
}

// Delete removes a key; a missing key is KindNotFound. Like Put, only a
// conditional delete is retried, and a retried one that finds the key gone
// counts as done: an earlier attempt removed it, or someone else did, and
// either way the key is gone.
func (c *Client) Delete(ctx context.Context, ns, key string, cond Cond) error {
	v := url.Values{"actor": {Actor}}
	if cas := cond.cas(); cas != nil {
		v.Set("cas", strconv.FormatInt(*cas, 10))
	}
	attempts, err := c.do(ctx, upstream.Request{Method: http.MethodDelete, Path: entryPath(ns, key), Query: v}, cond.set, nil)
	if attempts > 1 && domain.KindOf(err) == domain.KindNotFound {
		return nil
	}
	return err
}

// Batch applies ops atomically and returns the new entry of each set (a
// zero Entry for a delete). It is never retried: a batch may mix
// unconditional operations, and a repeated one could undo newer writes.
func (c *Client) Batch(ctx context.Context, ops []Op) ([]Entry, error) {
	type wireOp struct {
		Op        string          `json:"op"`
		Namespace string          `json:"namespace"`
		Key       string          `json:"key"`
		Value     json.RawMessage `json:"value,omitempty"`
		CAS       *int64          `json:"cas,omitempty"`
	}
	wire := make([]wireOp, len(ops))
	for i, o := range ops {
		w := wireOp{Op: "set", Namespace: o.Namespace, Key: o.Key, CAS: o.Cond.cas()}
		if o.Delete {
			w.Op = "delete"
		} else {
			raw, err := json.Marshal(o.Value)
			if err != nil {
				return nil, domain.Wrap(domain.KindInternal, "cannot encode unison value", err)
			}
			w.Value = raw
		}
		wire[i] = w
	}
	body := map[string]any{"operations": wire, "actor": Actor}
	var out struct {
		Items []*Entry `json:"items"`
	}
	if _, err := c.do(ctx, upstream.Request{Method: http.MethodPost, Path: []string{"api", "v1", "batch"}, Body: body}, false, &out); err != nil {
		return nil, err
	}
	entries := make([]Entry, len(ops))
	for i, e := range out.Items {
		if e != nil && i < len(entries) {
			entries[i] = *e
		}
	}
	return entries, nil
}

// read GETs a route, which is always safe to retry.
func (c *Client) read(ctx context.Context, out any, q url.Values, path ...string) error {
	_, err := c.do(ctx, upstream.Request{Method: http.MethodGet, Path: path, Query: q}, true, out)
	return err
}

// entryPath is the route of one key. Each part travels as one escaped
// path segment (upstream.Client.URL), so a "/" in a namespace never splits it.
func entryPath(ns, key string) []string { return []string{"api", "v1", "kv", ns, key} }

// sameJSON compares two JSON documents by meaning, not bytes: Unison may
// store a value in a different but equivalent form.
func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
