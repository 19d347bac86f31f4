package ports

import (
	"context"

	"github.com/diminuendo/diminuendo/domain"
)

// Workspace is Chronicle, the durable authority for workspace files, as the
// gateway reaches it: through the Podium instance whose session owns the
// workspace (docs/upstreams.md says why). Paths are checked and cleaned with
// domain.CleanWorkspacePath before anything leaves the gateway: a hostile
// one fails with KindInvalidMessage and sends no request. A missing
// instance, file, directory or iteration is KindNotFound.
type Workspace interface {
	// ListFiles lists the directory path, depth levels deep (depth <= 0
	// means 1: the directory's own children), ordered by path.
	ListFiles(ctx context.Context, instanceID, path string, depth int) ([]domain.FileEntry, error)
	// ReadFile returns the latest iteration of a file.
	ReadFile(ctx context.Context, instanceID, path string) (domain.FileContent, error)
	// FileHistory lists a file's iterations, oldest first.
	FileHistory(ctx context.Context, instanceID, path string) ([]domain.FileIteration, error)
	// FileAt returns one iteration of a file (from 1).
	FileAt(ctx context.Context, instanceID, path string, iteration int64) (domain.FileContent, error)
}
