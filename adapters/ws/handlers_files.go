package ws

import (
	"context"

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

func decodeFile(raw []byte, needPath bool) (api.FileMessage, error) {
	var m api.FileMessage
	if err := decode(raw, &m); err != nil {
		return m, err
	}
	if m.SessionId == "" || needPath && (m.Path == nil || *m.Path == "") {
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
	entries, err := s.files.List(ctx, id, m.SessionId, deref(m.Path), deref(m.Depth))
	if err != nil {
		return err
	}
	if entries == nil {
		entries = []domain.FileEntry{}
	}
	c.push(newReply("file_list", rid).with("sessionId", m.SessionId).with("path", deref(m.Path)).with("entries", entries).encode())
	return nil
}

func (s *Server) handleReadFile(ctx context.Context, c *conn, id domain.Identity, raw []byte, rid string) error {
	m, err := decodeFile(raw, true)
	if err != nil {
		return err
	}
	fc, err := s.files.Read(ctx, id, m.SessionId, *m.Path)
	if err != nil {
		return err
	}
	c.push(fileContent(rid, m.SessionId, fc))
	return nil
}

func (s *Server) handleFileHistory(ctx context.Context, c *conn, id domain.Identity, raw []byte, rid string) error {
	m, err := decodeFile(raw, true)
	if err != nil {
		return err
	}
	its, err := s.files.History(ctx, id, m.SessionId, *m.Path)
	if err != nil {
		return err
	}
	if its == nil {
		its = []domain.FileIteration{}
	}
	c.push(newReply("file_history", rid).with("sessionId", m.SessionId).with("path", *m.Path).with("iterations", its).encode())
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
	fc, err := s.files.At(ctx, id, m.SessionId, *m.Path, *m.Iteration)
	if err != nil {
		return err
	}
	c.push(fileContent(rid, m.SessionId, fc))
	return nil
}

func fileContent(rid, sessionID string, fc domain.FileContent) []byte {
	return newReply("file_content", rid).with("sessionId", sessionID).with("path", fc.Path).with("content", fc.Content).
		with("encoding", fc.Encoding).with("size", fc.Size).with("hash", fc.Hash).with("iteration", fc.Iteration).encode()
}
