package podiumsim

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// FileEntry is one entry of a directory listing. Directories have no size
// and no iteration.
type FileEntry struct {
	Path      string `json:"path"`
	Name      string `json:"name"`
	Type      string `json:"type"` // "file" or "dir"
	Size      int    `json:"size"`
	Iteration int    `json:"iteration"`
}

// FileContent is one iteration of a file. Content is UTF-8 text when the
// bytes are valid UTF-8, base64 otherwise.
type FileContent struct {
	Path      string `json:"path"`
	Content   string `json:"content"`
	Encoding  string `json:"encoding"`
	Size      int    `json:"size"`
	Hash      string `json:"hash"` // hex SHA-256 of the bytes
	Iteration int    `json:"iteration"`
}

// FileIteration describes one iteration of a file.
type FileIteration struct {
	Iteration int    `json:"iteration"`
	Timestamp int64  `json:"timestamp"` // Unix ms
	Size      int    `json:"size"`
	Hash      string `json:"hash"`
}

// ErrFileNotFound is a path or iteration the workspace does not hold. It is
// an ErrNotFound, told apart on the wire (code file_not_found) so that a
// client can learn which of instance and file is missing.
var ErrFileNotFound = fmt.Errorf("%w: no such file", ErrNotFound)

// Listing depth bounds: the default lists a directory's own children.
const (
	defaultDepth = 1
	maxDepth     = 64
)

// workspace is a session's files; every write is a new iteration, and all
// iterations stay readable.
type workspace struct {
	mu    sync.Mutex
	files map[string][]version
}

type version struct {
	data []byte
	ts   int64
	hash string
}

func newWorkspace() *workspace { return &workspace{files: map[string][]version{}} }

// cleanPath makes p relative to the workspace root. Cleaning it as an
// absolute path first resolves every ".." inside the root, so no path escapes.
func cleanPath(p string) string {
	return strings.TrimPrefix(path.Clean("/"+p), "/")
}

func (w *workspace) put(p string, data []byte, now time.Time) int {
	p = cleanPath(p)
	sum := sha256.Sum256(data)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.files[p] = append(w.files[p], version{data: append([]byte(nil), data...), ts: now.UnixMilli(), hash: hex.EncodeToString(sum[:])})
	return len(w.files[p])
}

func (w *workspace) list(dir string, depth int) ([]FileEntry, error) {
	dir = cleanPath(dir)
	if depth <= 0 {
		depth = defaultDepth
	}
	depth = min(depth, maxDepth)
	prefix := ""
	if dir != "" {
		prefix = dir + "/"
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	seen := map[string]FileEntry{}
	found := dir == ""
	for p, vs := range w.files {
		if !strings.HasPrefix(p, prefix) {
			continue
		}
		found = true
		parts := strings.Split(strings.TrimPrefix(p, prefix), "/")
		for i := 0; i < len(parts) && i < depth; i++ {
			ep := prefix + strings.Join(parts[:i+1], "/")
			if _, dup := seen[ep]; dup {
				continue
			}
			e := FileEntry{Path: ep, Name: parts[i], Type: "dir"}
			if i == len(parts)-1 {
				last := vs[len(vs)-1]
				e.Type, e.Size, e.Iteration = "file", len(last.data), len(vs)
			}
			seen[ep] = e
		}
	}
	if !found {
		return nil, ErrFileNotFound
	}
	out := make([]FileEntry, 0, len(seen))
	for _, e := range seen {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// read returns iteration it of p; 0 means the latest.
func (w *workspace) read(p string, it int) (FileContent, error) {
	p = cleanPath(p)
	w.mu.Lock()
	defer w.mu.Unlock()
	vs := w.files[p]
	if it == 0 {
		it = len(vs)
	}
	if it < 1 || it > len(vs) {
		return FileContent{}, ErrFileNotFound
	}
	v := vs[it-1]
	fc := FileContent{Path: p, Size: len(v.data), Hash: v.hash, Iteration: it, Encoding: "utf-8", Content: string(v.data)}
	if !utf8.Valid(v.data) {
		fc.Encoding, fc.Content = "base64", base64.StdEncoding.EncodeToString(v.data)
	}
	return fc, nil
}

func (w *workspace) history(p string) ([]FileIteration, error) {
	p = cleanPath(p)
	w.mu.Lock()
	defer w.mu.Unlock()
	vs := w.files[p]
	if len(vs) == 0 {
		return nil, ErrFileNotFound
	}
	out := make([]FileIteration, len(vs))
	for i, v := range vs {
		out[i] = FileIteration{Iteration: i + 1, Timestamp: v.ts, Size: len(v.data), Hash: v.hash}
	}
	return out, nil
}

// ListFiles lists the workspace of the instance's session under dir, depth
// levels deep (1 when depth <= 0). An unknown directory is ErrFileNotFound.
func (e *Engine) ListFiles(instanceID, dir string, depth int) ([]FileEntry, error) {
	in, err := e.lookup(instanceID)
	if err != nil {
		return nil, err
	}
	return in.ws.list(dir, depth)
}

// ReadFile returns the latest iteration of a file.
func (e *Engine) ReadFile(instanceID, p string) (FileContent, error) {
	return e.FileAt(instanceID, p, 0)
}

// FileAt returns one iteration of a file (from 1; 0 is the latest).
func (e *Engine) FileAt(instanceID, p string, iteration int) (FileContent, error) {
	in, err := e.lookup(instanceID)
	if err != nil {
		return FileContent{}, err
	}
	return in.ws.read(p, iteration)
}

// FileHistory lists the iterations of a file, oldest first.
func (e *Engine) FileHistory(instanceID, p string) ([]FileIteration, error) {
	in, err := e.lookup(instanceID)
	if err != nil {
		return nil, err
	}
	return in.ws.history(p)
}

// PutFile writes a new iteration of a file into a session's workspace, as
// an agent would; tests use it to seed files. It returns the iteration, or
// 0 for an empty path.
func (e *Engine) PutFile(sessionID, p string, data []byte) int {
	if cleanPath(p) == "" {
		return 0
	}
	e.mu.Lock()
	ws := e.workspaces[sessionID]
	if ws == nil {
		ws = newWorkspace()
		e.workspaces[sessionID] = ws
	}
	e.mu.Unlock()
	return ws.put(p, data, e.opts.Now())
}
