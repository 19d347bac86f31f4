package podium

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/coder/websocket"

	"github.com/diminuendo/diminuendo/adapters/upstream"
	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
)

// readLimit bounds one inbound frame. Podium's frames can carry whole file
// contents or long text deltas, far over the library's 32 KiB default.
const readLimit = 4 << 20

// eventBuffer decouples the socket from a briefly slow consumer; beyond it
// the reader waits, which is backpressure on Podium, not loss (the socket's
// own buffers hold more). Every live session has one, so it stays small.
const eventBuffer = 8

// Connect opens the instance's stream, resuming after seq after. The dial
// is retried like any idempotent call; the stream itself is not
// reconnected here: its end is reported, and the caller resumes from the
// last seq it saw, which the history makes lossless.
func (a *Adapter) Connect(ctx context.Context, instanceID string, after uint64) (ports.AgentStream, error) {
	u := a.up.URL(url.Values{"after": {strconv.FormatUint(after, 10)}}, "agent", instanceID)
	h := http.Header{}
	a.up.Authorize(h)
	conn, err := upstream.Call(ctx, a.up, true, func(ctx context.Context) (*websocket.Conn, error) {
		c, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: a.up.HTTP(), HTTPHeader: h})
		if err != nil && resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			// The library keeps the first KiB of a refused upgrade's body.
			return nil, a.up.StatusError(resp)
		}
		return c, err
	})
	if err != nil {
		return nil, a.toDomain(err)
	}
	conn.SetReadLimit(readLimit)
	sctx, cancel := context.WithCancel(context.Background())
	s := &stream{
		a: a, id: instanceID, conn: conn, last: after,
		events: make(chan domain.UpstreamEvent, eventBuffer),
		ctx:    sctx, cancel: cancel, done: make(chan struct{}),
	}
	go s.run()
	return s, nil
}

// stream is one live WebSocket to an instance.
type stream struct {
	a      *Adapter
	id     string
	conn   *websocket.Conn
	events chan domain.UpstreamEvent
	ctx    context.Context
	cancel context.CancelFunc

	done      chan struct{} // closed once err is set, before events closes
	err       error
	closing   atomic.Bool
	closeOnce sync.Once
	last      uint64 // owned by run
}

func (s *stream) Events() <-chan domain.UpstreamEvent { return s.events }

func (s *stream) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

// run reads frames until the socket ends, delivering events in seq order.
// Duplicates are dropped; a gap ends the stream with an error, so the
// caller resumes from the last delivered seq instead of passing a hole on.
func (s *stream) run() {
	var err error
	defer func() {
		s.err = s.reason(err)
		close(s.done)
		close(s.events)
		s.conn.CloseNow()
		s.cancel()
	}()
	for {
		_, data, rerr := s.conn.Read(s.ctx)
		if rerr != nil {
			err = rerr
			return
		}
		if d := s.a.cfg.Dump; d != nil {
			d.Frame("in", s.id, data)
		}
		ev, ok := s.a.event(s.id, data)
		if !ok {
			continue
		}
		if ev.Seq <= s.last {
			s.a.log.Debug("dropping a repeated podium event", "instance", s.id, "seq", ev.Seq)
			continue
		}
		if ev.Seq != s.last+1 {
			err = fmt.Errorf("podium stream jumped from seq %d to %d", s.last, ev.Seq)
			return
		}
		s.last = ev.Seq
		select {
		case s.events <- ev:
		case <-s.ctx.Done():
			err = s.ctx.Err()
			return
		}
	}
}

// reason turns the end of the socket into Err: nil when we closed it or
// Podium closed it normally (the instance stopped), an upstream error else.
func (s *stream) reason(err error) error {
	if s.closing.Load() || websocket.CloseStatus(err) == websocket.StatusNormalClosure {
		return nil
	}
	s.a.log.Warn("podium stream ended", "instance", s.id, "last_seq", s.last, "error", err.Error())
	return domain.ErrUpstream("podium", err)
}

// Send writes a command. Its outcome arrives as events (a refused command
// only as a logged command_error), as Podium echoes what it applies.
func (s *stream) Send(ctx context.Context, cmd ports.AgentCommand) error {
	frame, err := wireCommand(cmd)
	if err != nil {
		return err
	}
	select {
	case <-s.done:
		return domain.ErrUpstream("podium", errors.New("stream is closed"))
	default:
	}
	b, err := json.Marshal(frame)
	if err != nil {
		return domain.Wrap(domain.KindInvalidMessage, "command cannot be encoded", err)
	}
	if d := s.a.cfg.Dump; d != nil {
		d.Frame("out", s.id, b)
	}
	wctx, cancel := context.WithTimeout(ctx, s.a.up.Timeout())
	defer cancel()
	if err := s.conn.Write(wctx, websocket.MessageText, b); err != nil {
		return domain.ErrUpstream("podium", err)
	}
	return nil
}

// Close ends the stream with a close handshake; Err is nil afterwards.
func (s *stream) Close() error {
	s.closeOnce.Do(func() {
		s.closing.Store(true)
		// The handshake is bounded by the library; the reader sees the
		// peer's answer and ends, and cancel frees it if it waits on us.
		_ = s.conn.Close(websocket.StatusNormalClosure, "")
		s.cancel()
	})
	<-s.done
	return nil
}

type commandFrame struct {
	Type    string         `json:"type"`
	Content map[string]any `json:"content,omitempty"`
}

// wireCommand encodes a port command as Podium's command frame.
func wireCommand(cmd ports.AgentCommand) (commandFrame, error) {
	switch cmd.Type {
	case ports.CmdUserMessage:
		c := map[string]any{"text": cmd.Text}
		if cmd.ClientTurnID != "" {
			c["client_turn_id"] = cmd.ClientTurnID
		}
		return commandFrame{Type: "process_message", Content: c}, nil
	case ports.CmdInterrupt:
		return commandFrame{Type: "interrupt"}, nil
	case ports.CmdSteer:
		return commandFrame{Type: "steer", Content: map[string]any{"text": cmd.Text}}, nil
	case ports.CmdAnswer:
		c := map[string]any{"prompt_id": cmd.PromptID}
		if cmd.Approved != nil {
			c["approved"] = *cmd.Approved
		}
		if cmd.Answers != nil {
			c["answers"] = cmd.Answers
		}
		if cmd.Dismissed != nil {
			c["dismissed"] = *cmd.Dismissed
		}
		return commandFrame{Type: "answer", Content: c}, nil
	}
	return commandFrame{}, domain.E(domain.KindInvalidMessage, "unknown agent command "+strconv.Quote(cmd.Type))
}
