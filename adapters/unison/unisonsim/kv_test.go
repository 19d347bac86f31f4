package unisonsim_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// nsPath is "tenant:acme/sessions" escaped the way the docs show it.
const nsPath = "/api/v1/kv/tenant%3Aacme%2Fsessions"

func TestPutGetKeepsNamespaceWithSlashWhole(t *testing.T) {
	_, base := start(t)
	r := call(t, http.MethodPut, base+nsPath+"/s1", map[string]any{"value": map[string]any{"a": 1}, "actor": "alice"})
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "tenant:acme/sessions", r.body["namespace"])
	assert.Equal(t, "s1", r.body["key"])
	assert.EqualValues(t, 1, num(r.body["version"]))
	assert.Equal(t, "alice", r.body["updatedBy"])
	assert.Positive(t, num(r.body["updatedAt"]))
	assert.Contains(t, r.body, "expiresAt")
	assert.Nil(t, r.body["expiresAt"])

	g := call(t, http.MethodGet, base+nsPath+"/s1", nil)
	require.Equal(t, http.StatusOK, g.status)
	assert.Equal(t, map[string]any{"a": float64(1)}, g.body["value"])

	// The unescaped form names a different namespace and key.
	assert.Equal(t, http.StatusNotFound, call(t, http.MethodGet, base+"/api/v1/kv/tenant:acme/sessions", nil).status)
}

func TestDotSegmentsAreKeysNotPathSteps(t *testing.T) {
	_, base := start(t)
	require.Equal(t, http.StatusOK, call(t, http.MethodPut, base+nsPath+"/%2E%2E", map[string]any{"value": 1}).status)
	g := call(t, http.MethodGet, base+nsPath+"/%2E%2E", nil)
	require.Equal(t, http.StatusOK, g.status)
	assert.Equal(t, "..", g.body["key"])
}

func TestMissingKey(t *testing.T) {
	_, base := start(t)
	r := call(t, http.MethodGet, base+nsPath+"/nope", nil)
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.Equal(t, "not_found", errCode(r))
	assert.Equal(t, http.StatusNotFound, call(t, http.MethodDelete, base+nsPath+"/nope", nil).status)
}

func TestCompareAndSet(t *testing.T) {
	_, base := start(t)
	url := base + nsPath + "/k"
	put := func(body map[string]any) reply { return call(t, http.MethodPut, url, body) }

	require.Equal(t, http.StatusOK, put(map[string]any{"value": "a", "cas": 0}).status)
	r := put(map[string]any{"value": "b", "cas": 0})
	require.Equal(t, http.StatusConflict, r.status, "cas 0 means create only")
	assert.Equal(t, "cas_conflict", errCode(r))
	assert.EqualValues(t, 1, num(r.body["error"].(map[string]any)["currentVersion"]))

	require.Equal(t, http.StatusConflict, put(map[string]any{"value": "b", "cas": 7}).status)
	ok := put(map[string]any{"value": "b", "cas": 1})
	require.Equal(t, http.StatusOK, ok.status)
	assert.EqualValues(t, 2, num(ok.body["version"]))
	assert.EqualValues(t, 3, num(put(map[string]any{"value": "c"}).body["version"]), "no cas: unconditional")
	assert.Equal(t, "api", call(t, http.MethodGet, url, nil).body["updatedBy"], "actor defaults to api")

	// CAS on a missing key reports currentVersion 0.
	m := call(t, http.MethodPut, base+nsPath+"/other", map[string]any{"value": 1, "cas": 4})
	require.Equal(t, http.StatusConflict, m.status)
	assert.EqualValues(t, 0, num(m.body["error"].(map[string]any)["currentVersion"]))
}

func TestDeleteWithCASAndVersionsContinueAfterRecreate(t *testing.T) {
	_, base := start(t)
	url := base + nsPath + "/k"
	call(t, http.MethodPut, url, map[string]any{"value": 1})
	call(t, http.MethodPut, url, map[string]any{"value": 2})

	assert.Equal(t, http.StatusConflict, call(t, http.MethodDelete, url+"?cas=1", nil).status)
	assert.Equal(t, http.StatusBadRequest, call(t, http.MethodDelete, url+"?cas=x", nil).status)
	assert.Equal(t, http.StatusNoContent, call(t, http.MethodDelete, url+"?cas=2&actor=bob", nil).status)
	assert.Equal(t, http.StatusNotFound, call(t, http.MethodGet, url, nil).status)
	assert.Equal(t, http.StatusNotFound, call(t, http.MethodGet, url+"/versions", nil).status)
	assert.Equal(t, http.StatusNotFound, call(t, http.MethodDelete, url+"?cas=2", nil).status, "missing wins over cas")

	// A recreated key carries on from version 3, so a CAS held from the
	// first incarnation cannot match it.
	r := call(t, http.MethodPut, url, map[string]any{"value": 3, "cas": 0})
	require.Equal(t, http.StatusOK, r.status)
	assert.EqualValues(t, 3, num(r.body["version"]))
	assert.Equal(t, http.StatusConflict, call(t, http.MethodPut, url, map[string]any{"value": 4, "cas": 1}).status)
}

func TestVersionsKeepsLastTenNewestFirst(t *testing.T) {
	_, base := start(t)
	url := base + nsPath + "/k"
	for i := 1; i <= 12; i++ {
		require.Equal(t, http.StatusOK, call(t, http.MethodPut, url, map[string]any{"value": i}).status)
	}
	r := call(t, http.MethodGet, url+"/versions", nil)
	require.Equal(t, http.StatusOK, r.status)
	items := r.body["items"].([]any)
	require.Len(t, items, 10)
	assert.EqualValues(t, 12, num(items[0].(map[string]any)["version"]))
	assert.EqualValues(t, 3, num(items[9].(map[string]any)["version"]))
	assert.EqualValues(t, 3, num(items[9].(map[string]any)["value"]))
}

func TestListPrefixLimitCursor(t *testing.T) {
	_, base := start(t)
	for _, k := range []string{"b2", "a1", "b1", "b3", "c1"} {
		call(t, http.MethodPut, base+nsPath+"/"+k, map[string]any{"value": k})
	}
	call(t, http.MethodPut, base+"/api/v1/kv/tenant%3Aother%2Fsessions/b9", map[string]any{"value": 1})
	call(t, http.MethodDelete, base+nsPath+"/b3", nil)

	var keys []string
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 5)
		r := call(t, http.MethodGet, base+nsPath+"?prefix=b&limit=1&cursor="+cursor, nil)
		require.Equal(t, http.StatusOK, r.status)
		for _, it := range r.body["items"].([]any) {
			keys = append(keys, it.(map[string]any)["key"].(string))
		}
		cursor = r.body["nextCursor"].(string)
		if cursor == "" {
			break
		}
	}
	assert.Equal(t, []string{"b1", "b2"}, keys)

	all := call(t, http.MethodGet, base+nsPath, nil)
	assert.Len(t, all.body["items"], 4)
	assert.Equal(t, "", all.body["nextCursor"])
	empty := call(t, http.MethodGet, base+"/api/v1/kv/tenant%3Anobody%2Fsessions", nil)
	assert.Equal(t, http.StatusOK, empty.status)
	assert.Empty(t, empty.body["items"])

	assert.Equal(t, http.StatusBadRequest, call(t, http.MethodGet, base+nsPath+"?limit=0", nil).status)
	assert.Equal(t, http.StatusBadRequest, call(t, http.MethodGet, base+nsPath+"?cursor=!!", nil).status)
}

func TestBatchIsAllOrNothing(t *testing.T) {
	_, base := start(t)
	ns := "tenant:acme/sessions"
	call(t, http.MethodPut, base+nsPath+"/x", map[string]any{"value": "x1"})

	bad := call(t, http.MethodPost, base+"/api/v1/batch", map[string]any{"actor": "carol", "operations": []any{
		map[string]any{"op": "set", "namespace": ns, "key": "y", "value": "y1"},
		map[string]any{"op": "set", "namespace": ns, "key": "x", "value": "x2", "cas": 5},
	}})
	require.Equal(t, http.StatusConflict, bad.status)
	assert.EqualValues(t, 1, num(bad.body["error"].(map[string]any)["index"]))
	assert.Equal(t, http.StatusNotFound, call(t, http.MethodGet, base+nsPath+"/y", nil).status, "nothing applied")

	good := call(t, http.MethodPost, base+"/api/v1/batch", map[string]any{"actor": "carol", "operations": []any{
		map[string]any{"op": "set", "namespace": ns, "key": "y", "value": "y1", "cas": 0},
		map[string]any{"op": "set", "namespace": ns, "key": "y", "value": "y2", "cas": 1},
		map[string]any{"op": "delete", "namespace": ns, "key": "x", "cas": 1},
	}})
	require.Equal(t, http.StatusOK, good.status, "%v", good.body)
	items := good.body["items"].([]any)
	require.Len(t, items, 3)
	assert.Nil(t, items[2])
	y := call(t, http.MethodGet, base+nsPath+"/y", nil)
	assert.Equal(t, "y2", y.body["value"])
	assert.Equal(t, "carol", y.body["updatedBy"])
	assert.Equal(t, http.StatusNotFound, call(t, http.MethodGet, base+nsPath+"/x", nil).status)

	miss := call(t, http.MethodPost, base+"/api/v1/batch", map[string]any{"operations": []any{
		map[string]any{"op": "delete", "namespace": ns, "key": "x"},
	}})
	assert.Equal(t, http.StatusNotFound, miss.status)
	assert.Equal(t, http.StatusBadRequest, call(t, http.MethodPost, base+"/api/v1/batch", map[string]any{"operations": []any{
		map[string]any{"op": "frob", "namespace": ns, "key": "x"},
	}}).status)
	assert.Equal(t, http.StatusBadRequest, call(t, http.MethodPost, base+"/api/v1/batch", map[string]any{"operations": []any{}}).status)
}

func TestValueSizeLimit(t *testing.T) {
	_, base := start(t)
	// A JSON string of n bytes has n+2 bytes with its quotes.
	fits := strings.Repeat("a", (1<<20)-2)
	assert.Equal(t, http.StatusOK, call(t, http.MethodPut, base+nsPath+"/k", map[string]any{"value": fits}).status)
	r := call(t, http.MethodPut, base+nsPath+"/k", map[string]any{"value": fits + "a"})
	assert.Equal(t, http.StatusRequestEntityTooLarge, r.status)
	assert.Equal(t, "value_too_large", errCode(r))
	huge := call(t, http.MethodPut, base+nsPath+"/k", fmt.Sprintf(`{"value":"%s"}`, strings.Repeat("a", 2<<20)))
	assert.Equal(t, http.StatusRequestEntityTooLarge, huge.status)
	assert.Equal(t, http.StatusRequestEntityTooLarge, call(t, http.MethodPost, base+"/api/v1/batch", map[string]any{"operations": []any{
		map[string]any{"op": "set", "namespace": "n", "key": "k", "value": fits + "a"},
	}}).status)
}

func TestBadRequests(t *testing.T) {
	_, base := start(t)
	assert.Equal(t, http.StatusBadRequest, call(t, http.MethodPut, base+nsPath+"/k", `{"value":`).status)
	assert.Equal(t, http.StatusBadRequest, call(t, http.MethodPut, base+nsPath+"/k", `{"actor":"a"}`).status, "value required")
	assert.Equal(t, http.StatusBadRequest, call(t, http.MethodGet, base+nsPath+"/", nil).status, "empty key")
	assert.Equal(t, http.StatusBadRequest, call(t, http.MethodGet, base+"/api/v1/kv/"+strings.Repeat("n", 513), nil).status)
	assert.Equal(t, http.StatusNotFound, call(t, http.MethodGet, base+"/api/v1/nothing", nil).status)
	assert.Equal(t, http.StatusMethodNotAllowed, call(t, http.MethodPost, base+nsPath+"/k", nil).status)
	assert.Equal(t, http.StatusMethodNotAllowed, call(t, http.MethodGet, base+"/api/v1/batch", nil).status)
}
