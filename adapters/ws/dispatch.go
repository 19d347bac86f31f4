package ws

import (
	"context"
	"encoding/json"
	"errors"
	"runtime/debug"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/diminuendo/diminuendo/domain"
)

// handler serves one client message type. raw is the whole frame.
type handler func(ctx context.Context, c *conn, id domain.Identity, raw []byte, requestID string) error

// requestTimeout bounds the upstream work one message may cause.
const requestTimeout = 30 * time.Second

type envelope struct {
	Type      string
	RequestID string
}

// onMessage runs in the connection's read goroutine, so a connection's
// messages are handled one at a time and in order. The work itself runs on
// a short-lived goroutine the reader waits for: decoding, verification and
// upstream calls grow a stack to 16 KiB or more, and the reader lives as
// long as the connection, so handled inline every socket that ever sent a
// message would keep 8 KiB more stack for good (bench/conns: stacks of
// 20 KiB against 12 KiB per connection).
func (s *Server) onMessage(c *conn, raw []byte) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if p := recover(); p != nil {
				// A bug in one handler must not take the gateway down.
				s.log.Error("message handler panicked", "panic", p, "stack", string(debug.Stack()))
				c.push(s.errorFrame(CodeInternal, "internal error", peekRequestID(raw)))
			}
		}()
		s.handle(c, raw)
	}()
	<-done
}

func (s *Server) handle(c *conn, raw []byte) {
	if !s.admit(c, raw) {
		return
	}
	if !utf8.Valid(raw) {
		// RFC 6455 §8.1: a text frame that is not UTF-8 fails the connection.
		c.closeWith(CloseInvalidPayload, "text frames must be UTF-8")
		return
	}
	// One decoding serves the JSON check, the envelope and the schema
	// check; the handler then reads its typed message.
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		c.push(s.errorFrame(CodeInvalidJSON, "the frame is not valid JSON", ""))
		return
	}
	env, err := readEnvelope(v)
	if err != nil {
		c.push(s.errorFrame(CodeInvalidMessage, "a message is a JSON object with a string type and an optional string requestId", peekRequestID(raw)))
		return
	}
	if len(env.RequestID) > 128 {
		c.push(s.errorFrame(CodeInvalidMessage, "requestId is at most 128 characters", ""))
		return
	}
	// Before authentication only authenticate and ping exist; anything
	// else, known or not, is AUTH_REQUIRED.
	id, authed := c.identity()
	if !authed && env.Type != "authenticate" && env.Type != "ping" {
		c.push(s.errorFrame(CodeAuthRequired, "authenticate first", env.RequestID))
		return
	}
	h, known := s.handlers[env.Type]
	if !known {
		c.push(s.errorFrame(CodeInvalidMessage, "unknown message type", env.RequestID))
		return
	}
	if err := s.schemas.check(env.Type, v); err != nil {
		s.countError(CodeInvalidMessage)
		c.push(encodeError(err, env.RequestID, sessionIDOf(raw), s.cfg.DevMode))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	// One span per message (a no-op unless tracing is configured); the
	// connection itself is too long-lived to be one.
	ctx, span := s.tracer.Start(ctx, "ws."+env.Type, trace.WithSpanKind(trace.SpanKindServer))
	defer span.End()
	if err := h(ctx, c, id, raw, env.RequestID); err != nil {
		span.SetStatus(codes.Error, codeOf(err))
		de := domain.As(err)
		if de.Kind == domain.KindInternal || de.Kind == domain.KindUpstreamUnavailable {
			s.log.Warn("request failed", "type", env.Type, "client", c.id, "err", err)
		}
		s.countError(codeOf(err))
		c.push(encodeError(err, env.RequestID, sessionIDOf(raw), s.cfg.DevMode))
	}
}

// admit applies what every frame is subject to, text or binary: it is
// counted, a frame over the limit closes the connection with 1009, and a
// frame over the rate limit is refused. It reports whether to go on.
func (s *Server) admit(c *conn, raw []byte) bool {
	s.stats.Messages.Add(1)
	c.noteIn(raw)
	if int64(len(raw)) > s.cfg.MaxMessageBytes || c.oversized(raw) {
		c.push(s.errorFrame(CodeMessageTooLarge, "frames are limited to 1 MiB", ""))
		c.closeWith(CloseTooBig, "message too large")
		return false
	}
	if ok, retry := c.rate.Allow(time.Now()); !ok {
		f := errorEvent(CodeRateLimited, "too many messages; slow down", peekRequestID(raw))
		retryMs := max(1, retry.Milliseconds())
		f.RetryAfterMs = &retryMs
		s.countError(CodeRateLimited)
		c.push(encode(f))
		return false
	}
	return true
}

// readEnvelope reads type and requestId of a decoded message under their
// exact keys. Decoding into a struct would match keys regardless of case,
// so {"REQUESTID":"x"} would be answered as requestId x, a field the
// contract does not have.
func readEnvelope(v any) (envelope, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return envelope{}, errNotEnvelope
	}
	var env envelope
	if t, ok := m["type"]; ok {
		if env.Type, ok = t.(string); !ok {
			return envelope{}, errNotEnvelope
		}
	}
	if r, ok := m["requestId"]; ok {
		if env.RequestID, ok = r.(string); !ok {
			return envelope{}, errNotEnvelope
		}
	}
	return env, nil
}

var errNotEnvelope = errors.New("not a message envelope")

// decode reads raw into v; a shape mismatch is INVALID_MESSAGE.
func decode(raw []byte, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return domain.E(domain.KindInvalidMessage, "message fields have the wrong types")
	}
	return nil
}

// peekRequestID salvages a string requestId from a frame that failed to decode.
func peekRequestID(raw []byte) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	var s string
	if json.Unmarshal(m["requestId"], &s) != nil || len(s) > 128 {
		return ""
	}
	return s
}

func sessionIDOf(raw []byte) string {
	var m struct {
		SessionID string `json:"sessionId"`
	}
	_ = json.Unmarshal(raw, &m)
	if len(m.SessionID) > 128 {
		return ""
	}
	return m.SessionID
}

func requireField(ok bool, msg string) error {
	if !ok {
		return domain.E(domain.KindInvalidMessage, msg)
	}
	return nil
}
