package domain

import (
	"strings"
	"unicode/utf8"
)

// FileEntry is one entry of a workspace listing. Directories have no size
// and no iteration.
type FileEntry struct {
	Path      string `json:"path"`
	Name      string `json:"name"`
	Type      string `json:"type"` // FileTypeFile or FileTypeDir
	Size      int64  `json:"size"`
	Iteration int64  `json:"iteration"`
}

// Entry types of a listing.
const (
	FileTypeFile = "file"
	FileTypeDir  = "dir"
)

// FileContent is one iteration of a workspace file.
type FileContent struct {
	Path    string `json:"path"`
	Content string `json:"content"`
	// Encoding is EncodingUTF8 for text, EncodingBase64 for other bytes.
	Encoding  string `json:"encoding"`
	Size      int64  `json:"size"`
	Hash      string `json:"hash"`
	Iteration int64  `json:"iteration"`
}

// Content encodings.
const (
	EncodingUTF8   = "utf-8"
	EncodingBase64 = "base64"
)

// FileIteration describes one stored iteration of a file; every write makes
// a new one, numbered from 1 per path.
type FileIteration struct {
	Iteration int64  `json:"iteration"`
	Timestamp int64  `json:"timestamp"` // Unix ms
	Size      int64  `json:"size"`
	Hash      string `json:"hash"`
}

// MaxWorkspacePathLen bounds a workspace path as the client sent it.
const MaxWorkspacePathLen = 1024

// CleanWorkspacePath turns a client's path into the canonical form every
// workspace adapter sends upstream: relative to the workspace root, no
// empty or "." segments, no trailing slash; "" is the root. The check is
// ours rather than Chronicle's so that a hostile path never leaves the
// gateway: ".." segments are refused rather than resolved, since a path
// that needs them is either a mistake or an attempt to leave the root;
// backslashes and drive letters are refused because some clients' file
// systems read them as separators and absolute roots; NUL, control bytes
// and invalid UTF-8 are refused because they change meaning on the way
// through JSON, URLs and logs. A leading "/" names the workspace root, not
// the host's.
func CleanWorkspacePath(p string) (string, error) {
	switch {
	case len(p) > MaxWorkspacePathLen:
		return "", E(KindInvalidMessage, "path is too long")
	case !utf8.ValidString(p):
		return "", E(KindInvalidMessage, "path is not valid UTF-8")
	case strings.ContainsRune(p, '\\'):
		return "", E(KindInvalidMessage, "path must use / as separator")
	case hasDriveLetter(p):
		return "", E(KindInvalidMessage, "path must be relative to the workspace")
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f {
			return "", E(KindInvalidMessage, "path contains a control character")
		}
	}
	parts := strings.Split(p, "/")
	out := parts[:0]
	for _, s := range parts {
		switch s {
		case "", ".":
		case "..":
			return "", E(KindInvalidMessage, "path must not contain ..")
		default:
			out = append(out, s)
		}
	}
	return strings.Join(out, "/"), nil
}

// CleanWorkspaceFile is CleanWorkspacePath for operations on one file,
// where the root names nothing.
func CleanWorkspaceFile(p string) (string, error) {
	c, err := CleanWorkspacePath(p)
	if err == nil && c == "" {
		return "", E(KindInvalidMessage, "a file path is required")
	}
	return c, err
}

func hasDriveLetter(p string) bool {
	if len(p) < 2 || p[1] != ':' {
		return false
	}
	c := p[0] | 0x20
	return 'a' <= c && c <= 'z'
}
