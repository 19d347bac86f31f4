package podiumsim

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/coder/websocket"

	"github.com/diminuendo/diminuendo/adapters/simkit"
)

// commandFrame is a command as clients send it.
type commandFrame struct {
	Type    string `json:"type"`
	Content struct {
		Text         string         `json:"text"`
		ClientTurnID string         `json:"client_turn_id"`
		PromptID     string         `json:"prompt_id"`
		Approved     *bool          `json:"approved"`
		Answers      map[string]any `json:"answers"`
		Dismissed    *bool          `json:"dismissed"`
	} `json:"content"`
}

// maxCommand bounds an inbound command frame.
const maxCommand = 1 << 20

// writeTimeout bounds one frame write, so a stalled client cannot hold a
// stream handler forever.
const writeTimeout = 10 * time.Second

// stream serves GET /agent/{id}?after=N: the history after N, then live
// frames, until the instance stops (close 1000 "instance stopped"), the
// client leaves or the simulator closes.
func (s *Sim) stream(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	after, err := uintParam(r.URL.Query().Get("after"), 0)
	if err != nil {
		simkit.WriteError(w, http.StatusBadRequest, "invalid_request", "after must be a non-negative integer")
		return
	}
	if _, err := s.eng.Instance(id); err != nil {
		writeEngineError(w, err)
		return
	}
	if !s.track() {
		writeEngineError(w, ErrClosed)
		return
	}
	defer s.serving.Done()
	// Podium is reached server to server; there is no browser origin to check.
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	c.SetReadLimit(maxCommand)
	s.setConn(c, id)
	defer s.setConn(c, "")
	defer c.CloseNow()

	ctx, cancel := context.WithCancel(context.Background())
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		defer cancel()
		s.readCommands(ctx, c, id)
	}()
	defer func() {
		cancel() // ends the reader's Read if the writer side ended first
		<-readerDone
	}()

	for {
		frames, stopped, err := s.eng.Wait(ctx, id, after)
		if err != nil {
			if errors.Is(err, ErrClosed) {
				c.Close(websocket.StatusGoingAway, "podium shutting down")
			}
			return
		}
		for _, f := range frames {
			b, _ := json.Marshal(f) // maps of JSON values only
			if !write(ctx, c, b) {
				return
			}
			after = f.Seq
		}
		if stopped {
			c.Close(websocket.StatusNormalClosure, "instance stopped")
			return
		}
	}
}

func write(ctx context.Context, c *websocket.Conn, b []byte) bool {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	return c.Write(ctx, websocket.MessageText, b) == nil
}

// readCommands applies the client's commands until the connection ends. A
// command that cannot apply is answered with an unsequenced command_error.
func (s *Sim) readCommands(ctx context.Context, c *websocket.Conn, id string) {
	for {
		typ, data, err := c.Read(ctx)
		if err != nil {
			return
		}
		var msg string
		var cf commandFrame
		if typ != websocket.MessageText || json.Unmarshal(data, &cf) != nil {
			msg = "command is not a JSON text frame"
		} else {
			err := s.eng.Command(id, Command{
				Type: cf.Type, Text: cf.Content.Text, ClientTurnID: cf.Content.ClientTurnID, PromptID: cf.Content.PromptID,
				Approved: cf.Content.Approved, Answers: cf.Content.Answers, Dismissed: cf.Content.Dismissed,
			})
			var ce *CommandError
			switch {
			case errors.As(err, &ce):
				msg = ce.Message
			case err != nil:
				return
			}
		}
		if msg != "" {
			b, _ := json.Marshal(map[string]string{"type": "command_error", "message": msg})
			if !write(ctx, c, b) {
				return
			}
		}
	}
}
