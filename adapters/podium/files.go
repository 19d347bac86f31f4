package podium

import (
	"context"
	"net/url"
	"strconv"

	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
)

var _ ports.Workspace = (*Adapter)(nil)

// Listing depth bounds of Podium's files route.
const (
	defaultDepth = 1
	maxDepth     = 64
)

// wireEntry, wireContent and wireIteration are Podium's file shapes
// (docs/upstreams.md, Chronicle).
type wireEntry struct {
	Path      string `json:"path"`
	Name      string `json:"name"`
	Type      string `json:"type"`
	Size      int64  `json:"size"`
	Iteration int64  `json:"iteration"`
}

type wireContent struct {
	Path      string `json:"path"`
	Content   string `json:"content"`
	Encoding  string `json:"encoding"`
	Size      int64  `json:"size"`
	Hash      string `json:"hash"`
	Iteration int64  `json:"iteration"`
}

type wireIteration struct {
	Iteration int64  `json:"iteration"`
	Timestamp int64  `json:"timestamp"`
	Size      int64  `json:"size"`
	Hash      string `json:"hash"`
}

func (c wireContent) domain() domain.FileContent {
	enc := c.Encoding
	if enc == "" {
		enc = domain.EncodingUTF8
	}
	return domain.FileContent{Path: c.Path, Content: c.Content, Encoding: enc, Size: c.Size, Hash: c.Hash, Iteration: c.Iteration}
}

// ListFiles lists a directory of the instance's workspace. Files are reached
// through Podium, which maps an instance to its session's Chronicle
// workspace; see docs/upstreams.md for why not Chronicle directly.
func (a *Adapter) ListFiles(ctx context.Context, instanceID, path string, depth int) ([]domain.FileEntry, error) {
	p, err := domain.CleanWorkspacePath(path)
	if err != nil {
		return nil, err
	}
	if !domain.ValidID(instanceID) {
		return nil, errInstanceNotFound()
	}
	if depth <= 0 {
		depth = defaultDepth
	}
	q := url.Values{"path": {p}, "depth": {strconv.Itoa(min(depth, maxDepth))}}
	type listing struct {
		Entries []wireEntry `json:"entries"`
	}
	out, err := get[listing](ctx, a, q, instancePath(instanceID, "files")...)
	if err != nil {
		return nil, a.toDomain(err)
	}
	entries := make([]domain.FileEntry, len(out.Entries))
	for i, e := range out.Entries {
		entries[i] = domain.FileEntry{Path: e.Path, Name: e.Name, Type: e.Type, Size: e.Size, Iteration: e.Iteration}
	}
	return entries, nil
}

// ReadFile returns the latest iteration of a file.
func (a *Adapter) ReadFile(ctx context.Context, instanceID, path string) (domain.FileContent, error) {
	p, err := domain.CleanWorkspaceFile(path)
	if err != nil {
		return domain.FileContent{}, err
	}
	return a.content(ctx, instanceID, "content", url.Values{"path": {p}})
}

// FileAt returns one iteration of a file.
func (a *Adapter) FileAt(ctx context.Context, instanceID, path string, iteration int64) (domain.FileContent, error) {
	p, err := domain.CleanWorkspaceFile(path)
	if err != nil {
		return domain.FileContent{}, err
	}
	if iteration < 1 {
		return domain.FileContent{}, domain.E(domain.KindInvalidMessage, "iteration must be a positive integer")
	}
	return a.content(ctx, instanceID, "at", url.Values{"path": {p}, "iteration": {strconv.FormatInt(iteration, 10)}})
}

func (a *Adapter) content(ctx context.Context, instanceID, route string, q url.Values) (domain.FileContent, error) {
	if !domain.ValidID(instanceID) {
		return domain.FileContent{}, errInstanceNotFound()
	}
	out, err := get[wireContent](ctx, a, q, instancePath(instanceID, "files", route)...)
	if err != nil {
		return domain.FileContent{}, a.toDomain(err)
	}
	return out.domain(), nil
}

// FileHistory lists a file's iterations, oldest first.
func (a *Adapter) FileHistory(ctx context.Context, instanceID, path string) ([]domain.FileIteration, error) {
	p, err := domain.CleanWorkspaceFile(path)
	if err != nil {
		return nil, err
	}
	if !domain.ValidID(instanceID) {
		return nil, errInstanceNotFound()
	}
	type history struct {
		Iterations []wireIteration `json:"iterations"`
	}
	q := url.Values{"path": {p}}
	out, err := get[history](ctx, a, q, instancePath(instanceID, "files", "history")...)
	if err != nil {
		return nil, a.toDomain(err)
	}
	its := make([]domain.FileIteration, len(out.Iterations))
	for i, it := range out.Iterations {
		its[i] = domain.FileIteration{Iteration: it.Iteration, Timestamp: it.Timestamp, Size: it.Size, Hash: it.Hash}
	}
	return its, nil
}

// errInstanceNotFound answers for an id that cannot name an instance, so it
// never reaches a URL: Podium's ids ("inst_<uuid>") always pass domain.ValidID.
func errInstanceNotFound() error { return domain.E(domain.KindNotFound, "instance not found") }
