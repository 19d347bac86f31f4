package api_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/diminuendo/diminuendo/api"
)

// These tests read the gateway's source, so that a type added to the code
// without a schema in openapi.yaml fails them: the domain's event types, the
// frames the transports build, and the messages the WebSocket dispatcher
// accepts. The lists come from the code, never from a copy of it.

func TestEveryDomainEventHasASchema(t *testing.T) {
	spec := loadSpec(t)
	events := domainEventTypes(t, "../domain")
	requireAnchor(t, events, "user_message", "agent_event", "plan.revised")
	for _, union := range []string{"SessionEvent", "ServerEvent", "StreamEvent"} {
		for _, miss := range missing(events, mapping(t, spec, union)) {
			t.Errorf("%s has no %s schema", miss, union)
		}
	}
	// And no sequenced schema outlives the domain type it describes.
	for typ := range mapping(t, spec, "SessionEvent") {
		if _, ok := events[typ]; !ok {
			t.Errorf("SessionEvent maps %q, which the domain does not emit", typ)
		}
	}
	t.Logf("%d domain event types, each with a schema", len(events))
}

func TestEveryFrameTheGatewaySendsHasASchema(t *testing.T) {
	spec := loadSpec(t)
	ws := frameTypes(t, spec, "../adapters/ws")
	requireAnchor(t, ws, "welcome", "connected", "authenticated", "pong", "error", "events", "file_content")
	hub := frameTypes(t, spec, "../app")
	requireAnchor(t, hub, "session_state", "session_deleted", "session_updated")
	sse := frameTypes(t, spec, "../adapters/http")
	requireAnchor(t, sse, "error")
	conv := frameTypes(t, spec, "../adapters/apiconv")
	requireAnchor(t, conv, "state_snapshot")
	for _, c := range []struct {
		from   string
		types  map[string]string
		unions []string
	}{
		{"adapters/ws", ws, []string{"ServerEvent"}},
		// The hub's frames go to WebSocket connections and SSE streams
		// alike, and so do those both transports render through apiconv.
		{"app", hub, []string{"ServerEvent", "StreamEvent"}},
		{"adapters/apiconv", conv, []string{"ServerEvent", "StreamEvent"}},
		{"adapters/http", sse, []string{"StreamEvent"}},
	} {
		for _, union := range c.unions {
			for _, miss := range missing(c.types, mapping(t, spec, union)) {
				t.Errorf("%s sends %s, which %s does not map", c.from, miss, union)
			}
		}
	}
	t.Logf("frame types built in the code: adapters/ws %d, app %d, adapters/apiconv %d, adapters/http %d", len(ws), len(hub), len(conv), len(sse))
}

func TestEveryAcceptedMessageHasASchema(t *testing.T) {
	spec := loadSpec(t)
	accepted := dispatchedTypes(t, "../adapters/ws")
	requireAnchor(t, accepted, "authenticate", "ping", "join_session", "list_files", "manage_members")
	for _, miss := range missing(accepted, mapping(t, spec, "ClientMessage")) {
		t.Errorf("the WebSocket dispatcher accepts %s, which ClientMessage does not map", miss)
	}
	t.Logf("%d message types dispatched, each with a schema", len(accepted))
}

// The collectors find what they must in code they have never seen, so the
// checks above fail when a type is added without a schema.
func TestCoverageCheckFindsTypesWithoutSchemas(t *testing.T) {
	spec := loadSpec(t)
	dir := t.TempDir()
	src := `package probe

const (
	EvTextDelta = "text_delta"
	EvBrandNew  = "brand.new"
	other       = "not_an_event"
)

type frame struct{ Type string }

func (s *server) register() {
	s.handlers["ping"] = s.ping
	s.handlers["brand_new_message"] = s.ping
}

func (s *server) routes() map[string]handler {
	return map[string]handler{"join_session": s.join, "another_message": s.join}
}

func send() {
	_ = encode(api.Pong{Type: api.PongTypePong})
	_ = encode(api.ModelList{})
	_ = encode(map[string]any{"type": "brand_new_reply", "x": 1})
	_ = frame{Type: "brand_new_frame"}
	_ = frame{Type: "heartbeat"}
}
`
	if err := os.WriteFile(filepath.Join(dir, "probe.go"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := missing(domainEventTypes(t, dir), mapping(t, spec, "SessionEvent")); strings.Join(got, " ") != "brand.new" {
		t.Errorf("events without a schema: %v, want [brand.new]", got)
	}
	if got := missing(dispatchedTypes(t, dir), mapping(t, spec, "ClientMessage")); strings.Join(got, " ") != "another_message brand_new_message" {
		t.Errorf("messages without a schema: %v, want [another_message brand_new_message]", got)
	}
	frames := frameTypes(t, spec, dir)
	if _, ok := frames["pong"]; !ok {
		t.Errorf("a generated frame type was not found: %v", frames)
	}
	if got := missing(frames, mapping(t, spec, "ServerEvent")); strings.Join(got, " ") != "brand_new_frame brand_new_reply" {
		t.Errorf("frames without a schema: %v, want [brand_new_frame brand_new_reply]", got)
	}
}

func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	spec, err := api.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// mapping is the discriminator mapping of a union schema.
func mapping(t *testing.T, spec *openapi3.T, union string) map[string]bool {
	t.Helper()
	ref := spec.Components.Schemas[union]
	if ref == nil || ref.Value == nil || ref.Value.Discriminator == nil || len(ref.Value.Discriminator.Mapping) == 0 {
		t.Fatalf("openapi.yaml has no discriminated union %s", union)
	}
	out := map[string]bool{}
	for typ := range ref.Value.Discriminator.Mapping {
		out[typ] = true
	}
	return out
}

// missing lists the found types (type → where) the mapping lacks, sorted.
func missing(found map[string]string, m map[string]bool) []string {
	var out []string
	for typ := range found {
		if !m[typ] {
			out = append(out, typ)
		}
	}
	sort.Strings(out)
	return out
}

// requireAnchor fails when a collector missed types it must find: the
// collector, not the code, would be broken.
func requireAnchor(t *testing.T, found map[string]string, anchors ...string) {
	t.Helper()
	for _, a := range anchors {
		if _, ok := found[a]; !ok {
			t.Fatalf("the source scan did not find %q; found %v", a, found)
		}
	}
}

// parseDir parses the non-test Go files of dir.
func parseDir(t *testing.T, dir string) (*token.FileSet, []*ast.File) {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, n, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		t.Fatalf("no Go files in %s", dir)
	}
	return fset, files
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// domainEventTypes is every string constant named Ev* in dir: the client
// event types the domain emits.
func domainEventTypes(t *testing.T, dir string) map[string]string {
	t.Helper()
	fset, files := parseDir(t, dir)
	out := map[string]string{}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "Ev") || i >= len(vs.Values) {
					continue
				}
				if s, ok := stringLit(vs.Values[i]); ok {
					out[s] = fset.Position(name.Pos()).String()
				}
			}
			return true
		})
	}
	return out
}

// frameTypes is every frame type the code in dir builds: literals of a
// generated type whose schema has a single-valued type property, and any
// literal field Type or map key "type" set to a string.
func frameTypes(t *testing.T, spec *openapi3.T, dir string) map[string]string {
	t.Helper()
	fset, files := parseDir(t, dir)
	out := map[string]string{}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.CompositeLit)
			if !ok {
				return true
			}
			if sel, ok := lit.Type.(*ast.SelectorExpr); ok {
				if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "api" {
					if typ, ok := frameTypeOf(spec, sel.Sel.Name); ok {
						out[typ] = fset.Position(lit.Pos()).String()
					}
				}
			}
			for _, el := range lit.Elts {
				kv, ok := el.(*ast.KeyValueExpr)
				if !ok {
					continue
				}
				key := ""
				if id, ok := kv.Key.(*ast.Ident); ok {
					key = id.Name
				} else if s, ok := stringLit(kv.Key); ok {
					key = s
				}
				if key != "Type" && key != "type" {
					continue
				}
				if s, ok := stringLit(kv.Value); ok {
					out[s] = fset.Position(kv.Pos()).String()
				}
			}
			return true
		})
	}
	return out
}

// frameTypeOf is the type a generated frame struct always carries.
func frameTypeOf(spec *openapi3.T, schema string) (string, bool) {
	ref := spec.Components.Schemas[schema]
	if ref == nil || ref.Value == nil {
		return "", false
	}
	p := ref.Value.Properties["type"]
	if p == nil || p.Value == nil || len(p.Value.Enum) != 1 {
		return "", false
	}
	s, ok := p.Value.Enum[0].(string)
	return s, ok
}

// dispatchedTypes is every message type the WebSocket dispatcher in dir
// routes: the keys of the map routes() returns and of every assignment to
// s.handlers[...].
func dispatchedTypes(t *testing.T, dir string) map[string]string {
	t.Helper()
	fset, files := parseDir(t, dir)
	out := map[string]string{}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncDecl:
				if n.Name.Name != "routes" || n.Body == nil {
					return true
				}
				ast.Inspect(n.Body, func(m ast.Node) bool {
					if lit, ok := m.(*ast.CompositeLit); ok {
						if _, isMap := lit.Type.(*ast.MapType); isMap {
							for _, el := range lit.Elts {
								if kv, ok := el.(*ast.KeyValueExpr); ok {
									if s, ok := stringLit(kv.Key); ok {
										out[s] = fset.Position(kv.Pos()).String()
									}
								}
							}
						}
					}
					return true
				})
			case *ast.AssignStmt:
				for _, lhs := range n.Lhs {
					ix, ok := lhs.(*ast.IndexExpr)
					if !ok {
						continue
					}
					sel, ok := ix.X.(*ast.SelectorExpr)
					if !ok || sel.Sel.Name != "handlers" {
						continue
					}
					if s, ok := stringLit(ix.Index); ok {
						out[s] = fset.Position(ix.Pos()).String()
					}
				}
			}
			return true
		})
	}
	return out
}
