package app

import (
	"context"

	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
)

// MaxListDepth bounds a recursive workspace listing.
const MaxListDepth = 8

// Files reads a session's workspace (Chronicle, through the session's
// Podium instance). The session is resolved in the caller's tenant first,
// so another tenant's session id reaches no upstream.
type Files struct {
	reg ports.SessionRegistry
	ws  ports.Workspace
}

// NewFiles builds the files use case.
func NewFiles(reg ports.SessionRegistry, ws ports.Workspace) *Files {
	return &Files{reg: reg, ws: ws}
}

// instance is the instance whose workspace holds the session's files: the
// newest generation's (workspaces outlive instances, so a stopped one will do).
func (f *Files) instance(ctx context.Context, id domain.Identity, sessionID string) (string, error) {
	if err := id.Require(domain.PermSessionsRead); err != nil {
		return "", err
	}
	rec, err := lookup(ctx, f.reg, id, sessionID)
	if err != nil {
		return "", err
	}
	if n := len(rec.Generations); n > 0 {
		return rec.Generations[n-1].InstanceID, nil
	}
	return "", domain.E(domain.KindNotFound, "the session has no workspace yet; join it or run a turn first")
}

// List lists path depth levels deep.
func (f *Files) List(ctx context.Context, id domain.Identity, sessionID, path string, depth int) ([]domain.FileEntry, error) {
	if depth < 0 || depth > MaxListDepth {
		return nil, domain.E(domain.KindInvalidMessage, "depth must be 0-8")
	}
	p, err := domain.CleanWorkspacePath(path)
	if err != nil {
		return nil, err
	}
	inst, err := f.instance(ctx, id, sessionID)
	if err != nil {
		return nil, err
	}
	return f.ws.ListFiles(ctx, inst, p, depth)
}

// file checks a file path, then resolves the session's instance: a hostile
// path is refused before any registry or upstream call.
func (f *Files) file(ctx context.Context, id domain.Identity, sessionID, path string) (inst, p string, err error) {
	if p, err = domain.CleanWorkspaceFile(path); err != nil {
		return "", "", err
	}
	inst, err = f.instance(ctx, id, sessionID)
	return inst, p, err
}

// Read returns a file's latest iteration.
func (f *Files) Read(ctx context.Context, id domain.Identity, sessionID, path string) (domain.FileContent, error) {
	inst, p, err := f.file(ctx, id, sessionID, path)
	if err != nil {
		return domain.FileContent{}, err
	}
	return f.ws.ReadFile(ctx, inst, p)
}

// History lists a file's iterations, oldest first.
func (f *Files) History(ctx context.Context, id domain.Identity, sessionID, path string) ([]domain.FileIteration, error) {
	inst, p, err := f.file(ctx, id, sessionID, path)
	if err != nil {
		return nil, err
	}
	return f.ws.FileHistory(ctx, inst, p)
}

// At returns one iteration of a file.
func (f *Files) At(ctx context.Context, id domain.Identity, sessionID, path string, iteration int64) (domain.FileContent, error) {
	if iteration < 1 {
		return domain.FileContent{}, domain.E(domain.KindInvalidMessage, "iteration counts from 1")
	}
	inst, p, err := f.file(ctx, id, sessionID, path)
	if err != nil {
		return domain.FileContent{}, err
	}
	return f.ws.FileAt(ctx, inst, p, iteration)
}

// Models lists the models agents can use (Ensemble's catalog).
type Models struct{ catalog ports.ModelCatalog }

// NewModels builds the models use case.
func NewModels(c ports.ModelCatalog) *Models { return &Models{catalog: c} }

// List returns the catalog; any authenticated member may read it.
func (m *Models) List(ctx context.Context, id domain.Identity) ([]domain.Model, error) {
	if err := id.Require(domain.PermSessionsRead); err != nil {
		return nil, err
	}
	return m.catalog.Models(ctx)
}
