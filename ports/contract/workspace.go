package contract

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
)

// WorkspaceBackend is one adapter of ports.Workspace with what the suite
// needs to give it files.
type WorkspaceBackend struct {
	Workspace ports.Workspace
	// Runtime starts the instances whose workspaces are read; it serves the
	// simulated agents (coding-agent writes notes.md once per turn).
	Runtime ports.AgentRuntime
	// PutFile writes one iteration of a file into a session's workspace, as
	// an agent would.
	PutFile func(sessionID, path string, data []byte)
	// Requests counts the requests that reached the upstream, to prove a
	// refusal sent none; nil for a backend without a wire.
	Requests func() int64
}

// notesFile is what the simulated coding agent writes on every turn.
const notesFile = "notes.md"

// hostilePaths must be refused by every workspace operation before any
// request is made.
var hostilePaths = []string{
	"..", "/..", "../etc/passwd", "a/../../b", "a/..", "/../../etc/shadow",
	"..\\..\\windows\\win.ini", "C:\\boot.ini", "c:/x",
	"a\x00b", "notes.md\x00.txt", "a\nb", "\xff\xfe", strings.Repeat("a/", 513),
}

// Workspace runs the behaviour suite of ports.Workspace. newBackend returns
// a fresh backend and registers its own cleanup on t.
func Workspace(t *testing.T, newBackend func(t *testing.T) WorkspaceBackend) {
	t.Run("list and read", func(t *testing.T) {
		b := newBackend(t)
		ctx := context.Background()
		sess := newSession()
		b.PutFile(sess, "README.md", []byte("hi"))
		b.PutFile(sess, "/src/app/main.go", []byte("package main"))
		b.PutFile(sess, "src/lib.go", []byte("package src"))
		id := startInstance(t, b.Runtime, "echo", sess)

		root, err := b.Workspace.ListFiles(ctx, id, "", 0)
		require.NoError(t, err)
		assert.Equal(t, []domain.FileEntry{
			{Path: "README.md", Name: "README.md", Type: domain.FileTypeFile, Size: 2, Iteration: 1},
			{Path: "src", Name: "src", Type: domain.FileTypeDir},
		}, root)
		same, err := b.Workspace.ListFiles(ctx, id, "/", 1)
		require.NoError(t, err)
		assert.Equal(t, root, same, `"/" is the root`)

		deep, err := b.Workspace.ListFiles(ctx, id, "", 3)
		require.NoError(t, err)
		assert.Equal(t, []string{"README.md", "src", "src/app", "src/app/main.go", "src/lib.go"}, entryPaths(deep))

		src, err := b.Workspace.ListFiles(ctx, id, "/src/", 1)
		require.NoError(t, err)
		assert.Equal(t, []string{"src/app", "src/lib.go"}, entryPaths(src))

		fc, err := b.Workspace.ReadFile(ctx, id, "/src//./lib.go")
		require.NoError(t, err)
		assert.Equal(t, "src/lib.go", fc.Path)
		assert.Equal(t, "package src", fc.Content)
		assert.Equal(t, domain.EncodingUTF8, fc.Encoding)
		assert.Equal(t, int64(len("package src")), fc.Size)
		assert.Equal(t, int64(1), fc.Iteration)
		assert.NotEmpty(t, fc.Hash)
	})

	t.Run("history grows by one iteration per write", func(t *testing.T) {
		b := newBackend(t)
		ctx := context.Background()
		sess := newSession()
		id := startInstance(t, b.Runtime, "echo", sess)
		versions := []string{"one", "two!", "three"}
		for i, v := range versions {
			b.PutFile(sess, "docs/a.txt", []byte(v))
			hist, err := b.Workspace.FileHistory(ctx, id, "docs/a.txt")
			require.NoError(t, err)
			require.Len(t, hist, i+1)
			assert.Equal(t, int64(i+1), hist[i].Iteration)
			assert.Equal(t, int64(len(v)), hist[i].Size)
		}
		hist, err := b.Workspace.FileHistory(ctx, id, "/docs/a.txt")
		require.NoError(t, err)
		for i := range hist {
			assert.Positive(t, hist[i].Timestamp)
			if i > 0 {
				assert.GreaterOrEqual(t, hist[i].Timestamp, hist[i-1].Timestamp)
				assert.NotEqual(t, hist[i].Hash, hist[i-1].Hash, "different bytes, different hash")
			}
		}

		latest, err := b.Workspace.ReadFile(ctx, id, "docs/a.txt")
		require.NoError(t, err)
		assert.Equal(t, "three", latest.Content)
		assert.Equal(t, int64(3), latest.Iteration)
		for i, v := range versions {
			old, err := b.Workspace.FileAt(ctx, id, "docs/a.txt", int64(i+1))
			require.NoError(t, err)
			assert.Equal(t, v, old.Content)
			assert.Equal(t, int64(i+1), old.Iteration)
			assert.Equal(t, hist[i].Hash, old.Hash)
		}

		_, err = b.Workspace.FileAt(ctx, id, "docs/a.txt", 4)
		requireKind(t, domain.KindNotFound, err)
		for _, it := range []int64{0, -1} {
			_, err = b.Workspace.FileAt(ctx, id, "docs/a.txt", it)
			requireKind(t, domain.KindInvalidMessage, err, "iteration %d", it)
		}
	})

	t.Run("binary content is base64", func(t *testing.T) {
		b := newBackend(t)
		sess := newSession()
		data := []byte{0xff, 0xfe, 0x00, 0x01}
		b.PutFile(sess, "blob.bin", data)
		id := startInstance(t, b.Runtime, "echo", sess)
		fc, err := b.Workspace.ReadFile(context.Background(), id, "blob.bin")
		require.NoError(t, err)
		assert.Equal(t, domain.EncodingBase64, fc.Encoding)
		assert.Equal(t, base64.StdEncoding.EncodeToString(data), fc.Content)
		assert.Equal(t, int64(4), fc.Size)
	})

	t.Run("odd but harmless names travel intact", func(t *testing.T) {
		b := newBackend(t)
		ctx := context.Background()
		sess := newSession()
		names := []string{"dir with space/naïve café.md", "q?a=1&b=2#frag.txt", "%2e%2e/literal", "100%.txt", "+plus+.txt"}
		for _, n := range names {
			b.PutFile(sess, n, []byte(n))
		}
		id := startInstance(t, b.Runtime, "echo", sess)
		for _, n := range names {
			fc, err := b.Workspace.ReadFile(ctx, id, n)
			require.NoError(t, err, n)
			assert.Equal(t, n, fc.Content)
			assert.Equal(t, n, fc.Path)
		}
		_, err := b.Workspace.ReadFile(ctx, id, "%2e%2e/README.md")
		requireKind(t, domain.KindNotFound, err, "percent-encoded dots are a name, not a step up")
	})

	t.Run("a coding-agent turn writes a new iteration, and files outlive the instance", func(t *testing.T) {
		b := newBackend(t)
		ctx := context.Background()
		sess := newSession()
		id := startInstance(t, b.Runtime, "coding-agent", sess)
		s := connect(t, b.Runtime, id, 0)
		for _, text := range []string{"first note", "second note"} {
			send(t, s, userMessage(text, ""))
			untilTurnComplete(t, s)
			fc, err := b.Workspace.ReadFile(ctx, id, notesFile)
			require.NoError(t, err)
			assert.Contains(t, fc.Content, text)
		}
		hist, err := b.Workspace.FileHistory(ctx, id, notesFile)
		require.NoError(t, err)
		require.Len(t, hist, 2)
		first, err := b.Workspace.FileAt(ctx, id, notesFile, 1)
		require.NoError(t, err)
		assert.Contains(t, first.Content, "first note")
		assert.NotContains(t, first.Content, "second note")

		require.NoError(t, b.Runtime.StopInstance(ctx, id))
		_, err = b.Workspace.ReadFile(ctx, id, notesFile)
		require.NoError(t, err, "a stopped instance's workspace stays readable")
		next := startInstance(t, b.Runtime, "echo", sess)
		fc, err := b.Workspace.ReadFile(ctx, next, notesFile)
		require.NoError(t, err, "the workspace follows the session")
		assert.Equal(t, int64(2), fc.Iteration)
	})

	t.Run("missing things are not found", func(t *testing.T) {
		b := newBackend(t)
		ctx := context.Background()
		sess := newSession()
		b.PutFile(sess, "docs/a.txt", []byte("a"))
		id := startInstance(t, b.Runtime, "echo", sess)

		_, err := b.Workspace.ReadFile(ctx, id, "nope.txt")
		requireKind(t, domain.KindNotFound, err)
		assert.Equal(t, "file not found", domain.As(err).Message)
		_, err = b.Workspace.FileHistory(ctx, id, "nope.txt")
		requireKind(t, domain.KindNotFound, err)
		_, err = b.Workspace.FileAt(ctx, id, "nope.txt", 1)
		requireKind(t, domain.KindNotFound, err)
		_, err = b.Workspace.ListFiles(ctx, id, "nowhere", 1)
		requireKind(t, domain.KindNotFound, err)
		_, err = b.Workspace.ListFiles(ctx, id, "docs/a.txt", 1)
		requireKind(t, domain.KindNotFound, err, "a file is not a directory")

		_, err = b.Workspace.ReadFile(ctx, "inst_missing", "docs/a.txt")
		requireKind(t, domain.KindNotFound, err)
		assert.NotEqual(t, "file not found", domain.As(err).Message, "a missing instance is told apart")

		before := requests(b)
		for _, bad := range hostileIDs {
			_, err = b.Workspace.ListFiles(ctx, bad, "", 1)
			requireKind(t, domain.KindNotFound, err, "instance %q", bad)
			_, err = b.Workspace.ReadFile(ctx, bad, "docs/a.txt")
			requireKind(t, domain.KindNotFound, err, "instance %q", bad)
			_, err = b.Workspace.FileHistory(ctx, bad, "docs/a.txt")
			requireKind(t, domain.KindNotFound, err, "instance %q", bad)
			_, err = b.Workspace.FileAt(ctx, bad, "docs/a.txt", 1)
			requireKind(t, domain.KindNotFound, err, "instance %q", bad)
		}
		assert.Equal(t, before, requests(b), "an id that names no instance is not sent")
	})

	t.Run("hostile paths are refused without a request", func(t *testing.T) {
		b := newBackend(t)
		ctx := context.Background()
		sess := newSession()
		b.PutFile(sess, "etc/passwd", []byte("inside the workspace"))
		id := startInstance(t, b.Runtime, "echo", sess)

		before := requests(b)
		for _, p := range hostilePaths {
			_, err := b.Workspace.ListFiles(ctx, id, p, 1)
			requireKind(t, domain.KindInvalidMessage, err, "list %q", p)
			_, err = b.Workspace.ReadFile(ctx, id, p)
			requireKind(t, domain.KindInvalidMessage, err, "read %q", p)
			_, err = b.Workspace.FileHistory(ctx, id, p)
			requireKind(t, domain.KindInvalidMessage, err, "history %q", p)
			_, err = b.Workspace.FileAt(ctx, id, p, 1)
			requireKind(t, domain.KindInvalidMessage, err, "at %q", p)
		}
		for _, root := range []string{"", "/", "./"} {
			_, err := b.Workspace.ReadFile(ctx, id, root)
			requireKind(t, domain.KindInvalidMessage, err, "the root %q is not a file", root)
		}
		assert.Equal(t, before, requests(b), "a refused path never reaches the upstream")
	})
}

func newSession() string { return "s-" + uuid.NewString() }

func startInstance(t *testing.T, rt ports.AgentRuntime, agentType, sessionID string) string {
	t.Helper()
	info, err := rt.CreateInstance(context.Background(), ports.InstanceSpec{TenantID: "t1", SessionID: sessionID, AgentType: agentType})
	require.NoError(t, err)
	return info.ID
}

func entryPaths(es []domain.FileEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Path
	}
	return out
}

func requests(b WorkspaceBackend) int64 {
	if b.Requests == nil {
		return 0
	}
	return b.Requests()
}
