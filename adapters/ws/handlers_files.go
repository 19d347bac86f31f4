package ws

import (
	"context"

	"github.com/diminuendo/diminuendo/adapters/apiconv"
	"github.com/diminuendo/diminuendo/api"
	"github.com/diminuendo/diminuendo/app"
	"github.com/diminuendo/diminuendo/domain"
)

// WithFiles gives the server the workspace use case (the four file messages).
func (s *Server) WithFiles(f *app.Files) *Server {
	s.files = f
	s.handlers["list_files"] = s.handleListFiles
	s.handlers["read_file"] = s.handleReadFile
	s.handlers["file_history"] = s.handleFileHistory
	s.handlers["file_at_iteration"] = s.handleFileAt
	return s
}

// fileMessage holds the fields of the four file messages (ListFilesMessage,
// ReadFileMessage, FileHistoryMessage, FileAtIterationMessage); each
// handler checks the ones its message requires.
type fileMessage struct {
	SessionID string  `json:"sessionId"`
	Path      *string `json:"path"`
	Depth     *int    `json:"depth"`
	Iteration *int64  `json:"iteration"`
}

func decodeFile(raw []byte, needPath bool) (fileMessage, error) {
	var m fileMessage
	if err := decode(raw, &m); err != nil {
		return m, err
	}
	if m.SessionID == "" || needPath && (m.Path == nil || *m.Path == "") {
		if needPath {
			return m, domain.E(domain.KindInvalidMessage, "sessionId and path are required")
		}
		return m, domain.E(domain.KindInvalidMessage, "sessionId is required")
	}
	return m, nil
}

func (s *Server) handleListFiles(ctx context.Context, c *conn, id domain.Identity, raw []byte, rid string) error {
	m, err := decodeFile(raw, false)
	if err != nil {
		return err
	}
	entries, err := s.files.List(ctx, id, m.SessionID, deref(m.Path), deref(m.Depth))
	if err != nil {
		return err
	}
	c.push(encode(api.FileListReply{Type: api.FileListReplyTypeFileList, RequestId: optional(rid), SessionId: m.SessionID,
		Path: deref(m.Path), Entries: apiconv.FileEntries(entries)}))
	return nil
}

func (s *Server) handleReadFile(ctx context.Context, c *conn, id domain.Identity, raw []byte, rid string) error {
	m, err := decodeFile(raw, true)
	if err != nil {
		return err
	}
	fc, err := s.files.Read(ctx, id, m.SessionID, *m.Path)
	if err != nil {
		return err
	}
	c.push(fileContent(rid, m.SessionID, *m.Path, fc))
	return nil
}

func (s *Server) handleFileHistory(ctx context.Context, c *conn, id domain.Identity, raw []byte, rid string) error {
	m, err := decodeFile(raw, true)
	if err != nil {
		return err
	}
	its, err := s.files.History(ctx, id, m.SessionID, *m.Path)
	if err != nil {
		return err
	}
	c.push(encode(api.FileHistoryReply{Type: api.FileHistoryReplyTypeFileHistory, RequestId: optional(rid), SessionId: m.SessionID,
		Path: *m.Path, Iterations: apiconv.FileIterations(its)}))
	return nil
}

func (s *Server) handleFileAt(ctx context.Context, c *conn, id domain.Identity, raw []byte, rid string) error {
	m, err := decodeFile(raw, true)
	if err != nil {
		return err
	}
	if m.Iteration == nil {
		return domain.E(domain.KindInvalidMessage, "iteration is required")
	}
	fc, err := s.files.At(ctx, id, m.SessionID, *m.Path, *m.Iteration)
	if err != nil {
		return err
	}
	c.push(fileContent(rid, m.SessionID, *m.Path, fc))
	return nil
}

// fileContent is the reply to read_file and file_at_iteration.
func fileContent(rid, sessionID, asked string, fc domain.FileContent) []byte {
	f := apiconv.FileContent(sessionID, asked, fc)
	return encode(api.FileContentReply{Type: api.FileContentReplyTypeFileContent, RequestId: optional(rid), SessionId: f.SessionId,
		Path: f.Path, Content: f.Content, Encoding: api.FileContentReplyEncoding(f.Encoding), Size: f.Size, Hash: f.Hash, Iteration: f.Iteration})
}
