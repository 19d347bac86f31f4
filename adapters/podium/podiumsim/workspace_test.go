package podiumsim

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCodingAgentWritesAnIterationPerTurn(t *testing.T) {
	e := newEngine(t, EngineOptions{})
	id := mustCreate(t, e, "coding-agent", "sess")
	var seen uint64
	for i, text := range []string{"first", "second"} {
		mustCommand(t, e, id, Command{Type: CmdProcessMessage, Text: text})
		frames := waitFor(t, e, id, seen, "turn_complete")
		seen = frames[len(frames)-1].Seq
		fc, err := e.ReadFile(id, notesPath)
		require.NoError(t, err)
		assert.Equal(t, i+1, fc.Iteration)
		assert.Equal(t, "# Notes\n\n"+text+"\n", fc.Content)
		assert.Contains(t, frames[len(frames)-1].Content["final_text"], "(iteration "+itoa(i+1)+")")
	}
	hist, err := e.FileHistory(id, notesPath)
	require.NoError(t, err)
	require.Len(t, hist, 2)
	first, err := e.FileAt(id, notesPath, 1)
	require.NoError(t, err)
	assert.Equal(t, "# Notes\n\nfirst\n", first.Content)
	sum := sha256.Sum256([]byte(first.Content))
	assert.Equal(t, hex.EncodeToString(sum[:]), first.Hash)
	assert.Equal(t, hist[0].Hash, first.Hash)
	assert.Equal(t, len(first.Content), hist[0].Size)
	assert.NotZero(t, hist[0].Timestamp)
}

func TestFilesOutliveInstances(t *testing.T) {
	e := newEngine(t, EngineOptions{})
	first := mustCreate(t, e, "coding-agent", "sess")
	mustCommand(t, e, first, Command{Type: CmdProcessMessage, Text: "keep me"})
	waitFor(t, e, first, 0, "turn_complete")
	require.NoError(t, e.StopInstance(first))

	_, err := e.ReadFile(first, notesPath)
	require.NoError(t, err, "a stopped instance's files stay readable")
	second := mustCreate(t, e, "echo", "sess")
	fc, err := e.ReadFile(second, notesPath)
	require.NoError(t, err)
	assert.Contains(t, fc.Content, "keep me")

	other := mustCreate(t, e, "echo", "another-session")
	_, err = e.ReadFile(other, notesPath)
	assert.ErrorIs(t, err, ErrNotFound)
}

func TestListingDepthAndDirectories(t *testing.T) {
	e := newEngine(t, EngineOptions{})
	id := mustCreate(t, e, "echo", "sess")
	e.PutFile("sess", "README.md", []byte("hi"))
	e.PutFile("sess", "/src/app/main.go", []byte("package main"))
	e.PutFile("sess", "src/app/util.go", []byte("package main"))
	e.PutFile("sess", "src/lib.go", []byte("package src"))
	assert.Zero(t, e.PutFile("sess", "/", []byte("no name")))

	root, err := e.ListFiles(id, "", 0)
	require.NoError(t, err)
	assert.Equal(t, []FileEntry{
		{Path: "README.md", Name: "README.md", Type: "file", Size: 2, Iteration: 1},
		{Path: "src", Name: "src", Type: "dir"},
	}, root)

	deep, err := e.ListFiles(id, "/", 3)
	require.NoError(t, err)
	var paths []string
	for _, en := range deep {
		paths = append(paths, en.Path)
	}
	assert.Equal(t, []string{"README.md", "src", "src/app", "src/app/main.go", "src/app/util.go", "src/lib.go"}, paths)

	src, err := e.ListFiles(id, "src/", 1)
	require.NoError(t, err)
	assert.Equal(t, []FileEntry{
		{Path: "src/app", Name: "app", Type: "dir"},
		{Path: "src/lib.go", Name: "lib.go", Type: "file", Size: 11, Iteration: 1},
	}, src)

	_, err = e.ListFiles(id, "nowhere", 1)
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = e.ListFiles(id, "README.md", 1)
	assert.ErrorIs(t, err, ErrNotFound, "a file is not a directory")
	_, err = e.ListFiles("inst_missing", "", 1)
	assert.ErrorIs(t, err, ErrNotFound)
}

func TestPathsStayInsideTheWorkspace(t *testing.T) {
	e := newEngine(t, EngineOptions{})
	id := mustCreate(t, e, "echo", "sess")
	e.PutFile("sess", "../../etc/passwd", []byte("x"))
	fc, err := e.ReadFile(id, "etc/passwd")
	require.NoError(t, err)
	assert.Equal(t, "etc/passwd", fc.Path)
	_, err = e.ReadFile(id, "/a/../etc/./passwd")
	assert.NoError(t, err)
}

func TestBinaryFilesAreBase64(t *testing.T) {
	e := newEngine(t, EngineOptions{})
	id := mustCreate(t, e, "echo", "sess")
	data := []byte{0xff, 0xfe, 0x00, 0x01}
	e.PutFile("sess", "blob.bin", data)
	fc, err := e.ReadFile(id, "blob.bin")
	require.NoError(t, err)
	assert.Equal(t, "base64", fc.Encoding)
	assert.Equal(t, base64.StdEncoding.EncodeToString(data), fc.Content)
	assert.Equal(t, 4, fc.Size)

	_, err = e.FileAt(id, "blob.bin", 2)
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = e.FileHistory(id, "missing")
	assert.ErrorIs(t, err, ErrNotFound)
}
