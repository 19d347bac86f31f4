package http

import (
	"context"

	"github.com/diminuendo/diminuendo/adapters/apiconv"
	"github.com/diminuendo/diminuendo/api"
	"github.com/diminuendo/diminuendo/domain"
)

// Files is the workspace use case behind the file routes (app.Files): the
// same calls list_files, read_file, file_history and file_at_iteration make.
type Files interface {
	List(ctx context.Context, id domain.Identity, sessionID, path string, depth int) ([]domain.FileEntry, error)
	Read(ctx context.Context, id domain.Identity, sessionID, path string) (domain.FileContent, error)
	History(ctx context.Context, id domain.Identity, sessionID, path string) ([]domain.FileIteration, error)
	At(ctx context.Context, id domain.Identity, sessionID, path string, iteration int64) (domain.FileContent, error)
}

// WithFiles gives the server the workspace use case. Without it the file
// routes answer NOT_FOUND.
func (s *Server) WithFiles(f Files) *Server {
	s.ext.files = f
	return s
}

// filesFor resolves the caller and the files use case.
func (h *handlers) filesFor(ctx context.Context) (domain.Identity, Files, error) {
	id, err := identityFrom(ctx)
	if err != nil {
		return id, nil, err
	}
	if h.s.ext.files == nil {
		return id, nil, domain.E(domain.KindNotFound, "files are not available")
	}
	return id, h.s.ext.files, nil
}

func (h *handlers) ListFiles(ctx context.Context, req api.ListFilesRequestObject) (api.ListFilesResponseObject, error) {
	id, files, err := h.filesFor(ctx)
	if err != nil {
		return nil, err
	}
	depth := deref(req.Params.Depth)
	if depth < 0 {
		return nil, domain.E(domain.KindInvalidMessage, "depth must be at least 0")
	}
	path := deref(req.Params.Path)
	entries, err := files.List(ctx, id, req.SessionId, path, depth)
	if err != nil {
		return nil, err
	}
	return api.ListFiles200JSONResponse{SessionId: req.SessionId, Path: path, Entries: apiconv.FileEntries(entries)}, nil
}

func (h *handlers) ReadFile(ctx context.Context, req api.ReadFileRequestObject) (api.ReadFileResponseObject, error) {
	id, files, err := h.filesFor(ctx)
	if err != nil {
		return nil, err
	}
	fc, err := files.Read(ctx, id, req.SessionId, req.Params.Path)
	if err != nil {
		return nil, err
	}
	return api.ReadFile200JSONResponse(apiconv.FileContent(req.SessionId, req.Params.Path, fc)), nil
}

func (h *handlers) FileHistory(ctx context.Context, req api.FileHistoryRequestObject) (api.FileHistoryResponseObject, error) {
	id, files, err := h.filesFor(ctx)
	if err != nil {
		return nil, err
	}
	its, err := files.History(ctx, id, req.SessionId, req.Params.Path)
	if err != nil {
		return nil, err
	}
	return api.FileHistory200JSONResponse{SessionId: req.SessionId, Path: req.Params.Path, Iterations: apiconv.FileIterations(its)}, nil
}

func (h *handlers) FileAtIteration(ctx context.Context, req api.FileAtIterationRequestObject) (api.FileAtIterationResponseObject, error) {
	id, files, err := h.filesFor(ctx)
	if err != nil {
		return nil, err
	}
	if req.Params.Iteration < 1 {
		return nil, domain.E(domain.KindInvalidMessage, "iteration must be at least 1")
	}
	fc, err := files.At(ctx, id, req.SessionId, req.Params.Path, req.Params.Iteration)
	if err != nil {
		return nil, err
	}
	return api.FileAtIteration200JSONResponse(apiconv.FileContent(req.SessionId, req.Params.Path, fc)), nil
}
