package podium

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"

	"github.com/diminuendo/diminuendo/adapters/upstream"
	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
)

// readLimit bounds one inbound frame. Podium's frames can carry whole file
// contents or long text deltas.
const readLimit = 4 << 20

// closeWait bounds the close handshake: how long Close waits for Podium to
// answer its close frame before the socket is closed anyway.
const closeWait = 2 * time.Second

// writeBuffers are shared by every stream: a buffer is held only while a
// command is written, so a live session's idle stream keeps none.
var writeBuffers = &sync.Pool{}

// dialer opens the streams. Each keeps only its read buffer between
// frames, for the stream's life, so it is small: a streamed event is a few
// hundred bytes, so 1 KiB still takes several in one read, and a larger
// frame is read past the buffer straight into the message.
var dialer = &websocket.Dialer{
	Proxy:           http.ProxyFromEnvironment,
	ReadBufferSize:  1024,
	WriteBufferSize: 4096,
	WriteBufferPool: writeBuffers,
}

// Connect opens the instance's stream, resuming after seq after. The dial
// is retried like any idempotent call; the stream itself is not
// reconnected here: its end is reported, and the caller resumes from the
// last seq it saw, which the history makes lossless.
func (a *Adapter) Connect(ctx context.Context, instanceID string, after uint64) (ports.AgentStream, error) {
	u := wsURL(a.up.URL(url.Values{"after": {strconv.FormatUint(after, 10)}}, "agent", instanceID))
	h := http.Header{}
	a.up.Authorize(h)
	// The upgrade joins the caller's trace, as the other upstream calls do
	// through the traced HTTP transport (a no-op while tracing is off).
	otel.GetTextMapPropagator().Inject(ctx, propagation.HeaderCarrier(h))
	conn, err := upstream.Call(ctx, a.up, true, func(ctx context.Context) (*websocket.Conn, error) {
		c, resp, err := dialer.DialContext(ctx, u, h)
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
	return &stream{a: a, id: instanceID, conn: conn, last: after, done: make(chan struct{})}, nil
}

// wsURL is an http(s) address as the WebSocket scheme the dialer takes.
func wsURL(u string) string {
	if rest, ok := strings.CutPrefix(u, "http"); ok {
		return "ws" + rest
	}
	return u
}

// stream is one live WebSocket to an instance, read by Run on its
// caller's goroutine: no goroutine of its own.
type stream struct {
	a    *Adapter
	id   string
	conn *websocket.Conn
	last uint64 // owned by Run

	wmu     sync.Mutex // one writer at a time, as the library requires
	mu      sync.Mutex // guards runs and ended
	runs    bool       // Run has started
	ended   bool       // the socket is closed
	done    chan struct{}
	closing atomic.Bool
	once    sync.Once
}

// Run reads frames until the socket ends, handing events on in seq order.
// Duplicates are dropped; a gap ends the stream with an error, so the
// caller resumes from the last delivered seq instead of passing a hole on.
func (s *stream) Run(handle func(domain.UpstreamEvent) bool) error {
	s.mu.Lock()
	if s.runs || s.ended {
		s.mu.Unlock()
		return nil // closed before it was read
	}
	s.runs = true
	s.mu.Unlock()
	err := s.read(handle)
	s.mu.Lock()
	s.ended = true
	s.mu.Unlock()
	_ = s.conn.Close()
	close(s.done)
	return s.reason(err)
}

// errStopped is handle's refusal of an event: the caller's own decision.
var errStopped = errors.New("stopped by the consumer")

func (s *stream) read(handle func(domain.UpstreamEvent) bool) error {
	for {
		_, data, err := s.conn.ReadMessage()
		if err != nil {
			return err
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
			return fmt.Errorf("podium stream jumped from seq %d to %d", s.last, ev.Seq)
		}
		s.last = ev.Seq
		if !handle(ev) {
			return errStopped
		}
	}
}

// reason turns the end of the socket into Run's result: nil when we closed
// it, the consumer stopped, or Podium closed it normally (the instance
// stopped); an upstream error else.
func (s *stream) reason(err error) error {
	if s.closing.Load() || errors.Is(err, errStopped) || websocket.IsCloseError(err, websocket.CloseNormalClosure) {
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
	if s.closing.Load() {
		return domain.ErrUpstream("podium", errors.New("stream is closed"))
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
	deadline := time.Now().Add(s.a.up.Timeout())
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_ = s.conn.SetWriteDeadline(deadline)
	if err := s.conn.WriteMessage(websocket.TextMessage, b); err != nil {
		return domain.ErrUpstream("podium", err)
	}
	return nil
}

// Close ends the stream with a close handshake and waits for a Run in
// progress to see Podium's answer (or closeWait to pass); Run returns nil
// afterwards.
func (s *stream) Close() error {
	s.once.Do(func() {
		s.closing.Store(true)
		deadline := time.Now().Add(closeWait)
		_ = s.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), deadline)
		s.mu.Lock()
		if !s.runs && !s.ended {
			// Nobody reads: there is no answer to wait for.
			s.ended = true
			s.mu.Unlock()
			_ = s.conn.Close()
			close(s.done)
			return
		}
		s.mu.Unlock()
		// The reader sees the answer, or its read times out.
		_ = s.conn.SetReadDeadline(deadline)
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
