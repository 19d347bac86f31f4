package fake

import (
	"context"
	"errors"

	"github.com/diminuendo/diminuendo/adapters/podium/podiumsim"
	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
)

var _ ports.Workspace = (*Workspace)(nil)

// Workspace is ports.Workspace over podiumsim's engine. Give it the engine
// of an AgentRuntime (rt.Engine()) and the files the fake agents write
// appear in it, as they do behind the real Podium.
type Workspace struct {
	eng *podiumsim.Engine
}

// NewWorkspace returns a workspace over eng; it does not own eng.
func NewWorkspace(eng *podiumsim.Engine) *Workspace { return &Workspace{eng: eng} }

// Listing depth bounds, as Podium applies them.
const (
	defaultDepth = 1
	maxDepth     = 64
)

func (w *Workspace) ListFiles(_ context.Context, instanceID, path string, depth int) ([]domain.FileEntry, error) {
	p, err := domain.CleanWorkspacePath(path)
	if err != nil {
		return nil, err
	}
	if depth <= 0 {
		depth = defaultDepth
	}
	es, err := w.eng.ListFiles(instanceID, p, min(depth, maxDepth))
	if err != nil {
		return nil, fileError(err)
	}
	out := make([]domain.FileEntry, len(es))
	for i, e := range es {
		out[i] = domain.FileEntry{Path: e.Path, Name: e.Name, Type: e.Type, Size: int64(e.Size), Iteration: int64(e.Iteration)}
	}
	return out, nil
}

func (w *Workspace) ReadFile(_ context.Context, instanceID, path string) (domain.FileContent, error) {
	p, err := domain.CleanWorkspaceFile(path)
	if err != nil {
		return domain.FileContent{}, err
	}
	fc, err := w.eng.ReadFile(instanceID, p)
	if err != nil {
		return domain.FileContent{}, fileError(err)
	}
	return fileContent(fc), nil
}

func (w *Workspace) FileHistory(_ context.Context, instanceID, path string) ([]domain.FileIteration, error) {
	p, err := domain.CleanWorkspaceFile(path)
	if err != nil {
		return nil, err
	}
	its, err := w.eng.FileHistory(instanceID, p)
	if err != nil {
		return nil, fileError(err)
	}
	out := make([]domain.FileIteration, len(its))
	for i, it := range its {
		out[i] = domain.FileIteration{Iteration: int64(it.Iteration), Timestamp: it.Timestamp, Size: int64(it.Size), Hash: it.Hash}
	}
	return out, nil
}

func (w *Workspace) FileAt(_ context.Context, instanceID, path string, iteration int64) (domain.FileContent, error) {
	p, err := domain.CleanWorkspaceFile(path)
	if err != nil {
		return domain.FileContent{}, err
	}
	if iteration < 1 {
		return domain.FileContent{}, domain.E(domain.KindInvalidMessage, "iteration must be a positive integer")
	}
	fc, err := w.eng.FileAt(instanceID, p, int(min(iteration, 1<<31-1)))
	if err != nil {
		return domain.FileContent{}, fileError(err)
	}
	return fileContent(fc), nil
}

func fileContent(fc podiumsim.FileContent) domain.FileContent {
	return domain.FileContent{
		Path: fc.Path, Content: fc.Content, Encoding: fc.Encoding,
		Size: int64(fc.Size), Hash: fc.Hash, Iteration: int64(fc.Iteration),
	}
}

func fileError(err error) error {
	if errors.Is(err, podiumsim.ErrFileNotFound) {
		return domain.Wrap(domain.KindNotFound, "file not found", err)
	}
	return toDomain(err)
}
