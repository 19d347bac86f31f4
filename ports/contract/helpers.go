package contract

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/diminuendo/diminuendo/domain"
)

// newTenant returns a tenant id no other subtest uses, so a suite may run
// against one shared backend.
func newTenant() string { return "t-" + uuid.NewString() }

// hostileIDs are ids a client might send to escape its tenant or confuse a
// path, a key or a log line.
var hostileIDs = []string{
	"", ".", "..", "../x", "a/b", "/", "a b", "a%2Fb", "%2E%2E", "a?b=c", "a#b",
	"tenant:x/sessions", "ü", "a\x00b", "a\nb", strings.Repeat("a", domain.MaxIDLen+1),
}

func requireKind(t *testing.T, want domain.Kind, err error, msgAndArgs ...any) {
	t.Helper()
	require.Error(t, err, msgAndArgs...)
	require.Equal(t, want.String(), domain.KindOf(err).String(), msgAndArgs...)
}

// assertSameJSON compares two values by their JSON, which is what a store
// keeps; time.Time values compare by instant rather than representation.
func assertSameJSON(t *testing.T, want, got any) {
	t.Helper()
	w, err := json.Marshal(want)
	require.NoError(t, err)
	g, err := json.Marshal(got)
	require.NoError(t, err)
	assert.JSONEq(t, string(w), string(g))
}
