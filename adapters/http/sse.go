package http

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/diminuendo/diminuendo/adapters/apiconv"
	"github.com/diminuendo/diminuendo/api"
	"github.com/diminuendo/diminuendo/app"
	"github.com/diminuendo/diminuendo/domain"
)

// GET /api/sessions/{sessionId}/events/stream: join_session over
// Server-Sent Events, for API consumers without WebSocket.

// SSEConfig tunes the event streams.
type SSEConfig struct {
	// Keepalive is the interval of the ": keepalive" comment lines that keep
	// proxies from closing an idle stream.
	Keepalive time.Duration
	// QueueBytes bounds the frames waiting for a slow consumer. Past it the
	// stream ends after the frames already queued, and the client resumes
	// with Last-Event-ID, exactly as a WebSocket client resumes after 4008.
	QueueBytes int
	// WriteTimeout bounds each write to the client, so that a client that
	// stops reading without closing is cut off. It is the only deadline on
	// the stream: no server-wide write timeout applies.
	WriteTimeout time.Duration
}

// DefaultSSEConfig is 15 s keepalives, a 1 MiB queue (the WebSocket
// outbox's bound) and 30 s per write.
func DefaultSSEConfig() SSEConfig {
	return SSEConfig{Keepalive: 15 * time.Second, QueueBytes: 1 << 20, WriteTimeout: 30 * time.Second}
}

func (c SSEConfig) withDefaults() SSEConfig {
	d := DefaultSSEConfig()
	if c.Keepalive <= 0 {
		c.Keepalive = d.Keepalive
	}
	if c.QueueBytes <= 0 {
		c.QueueBytes = d.QueueBytes
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = d.WriteTimeout
	}
	return c
}

// WithSSE sets the event streams' policy; zero fields keep their defaults.
func (s *Server) WithSSE(c SSEConfig) *Server {
	s.ext.sse = c
	return s
}

// openStream registers a new stream; it returns the channel closed when
// the server stops, or false when it is stopping already.
func (s *Server) openStream() (<-chan struct{}, bool) {
	s.ext.streamsMu.Lock()
	defer s.ext.streamsMu.Unlock()
	if s.ext.streamsClosed {
		return nil, false
	}
	if s.ext.streamsStop == nil {
		s.ext.streamsStop = make(chan struct{})
	}
	return s.ext.streamsStop, true
}

// endStreams ends every event stream, so that a graceful shutdown is not
// held up by them; clients resume elsewhere with Last-Event-ID.
func (s *Server) endStreams() {
	s.ext.streamsMu.Lock()
	defer s.ext.streamsMu.Unlock()
	if s.ext.streamsClosed {
		return
	}
	s.ext.streamsClosed = true
	if s.ext.streamsStop == nil {
		s.ext.streamsStop = make(chan struct{})
	}
	close(s.ext.streamsStop)
}

func (h *handlers) StreamEvents(ctx context.Context, req api.StreamEventsRequestObject) (api.StreamEventsResponseObject, error) {
	id, err := identityFrom(ctx)
	if err != nil {
		return nil, err
	}
	jr := app.JoinRequest{SessionID: req.SessionId, Epoch: deref(req.Params.Epoch)}
	// A reconnecting EventSource sends Last-Event-ID and repeats the URL it
	// first used, so the header wins over afterSeq.
	cursor := req.Params.AfterSeq
	if req.Params.LastEventID != nil {
		cursor = req.Params.LastEventID
	}
	if cursor != nil {
		if *cursor < 0 {
			return nil, domain.E(domain.KindInvalidMessage, "the cursor must be at least 0")
		}
		after := uint64(*cursor)
		jr.AfterSeq = &after
	}
	stop, ok := h.s.openStream()
	if !ok {
		return nil, &domain.Error{Kind: domain.KindCapacityExceeded, Message: "this gateway instance is shutting down; retry", RetryAfter: time.Second}
	}
	// A stream is a long-lived connection like a socket: it holds a place
	// in its tenant's and user's connection quotas while it lasts.
	release := func() {}
	if q := h.s.ext.quotas; q != nil && !h.s.cfg.DevMode {
		if release, err = q.Acquire(id); err != nil {
			return nil, err
		}
	}
	cfg := h.s.ext.sse.withDefaults()
	sub := newSSESubscriber(cfg.QueueBytes)
	stopExpiry, err := endAtExpiry(ctx, sub)
	if err != nil {
		release()
		return nil, err
	}
	if err := h.s.hub.Join(ctx, id, jr, sub, func(snap app.Snapshot) app.Frame {
		f, err := encodeSnapshot(req.SessionId, snap)
		if err != nil {
			// Stored events always encode; should one not, say so
			// rather than send a partial snapshot.
			return errorEventFrame(api.ErrorCodeINTERNAL, "could not encode the snapshot")
		}
		return f
	}); err != nil {
		stopExpiry()
		release()
		return nil, err
	}
	return &sseResponse{
		ctx: ctx, stop: stop, sub: sub, cfg: cfg,
		leave: func() { stopExpiry(); _ = h.s.hub.Leave(id, req.SessionId, sub); release() },
	}, nil
}

// encodeSnapshot is state_snapshot as the WebSocket sends it, less the
// requestId: the stream's X-Request-Id header names the request.
func encodeSnapshot(sessionID string, snap app.Snapshot) (app.Frame, error) {
	f, err := apiconv.Snapshot(sessionID, snap)
	if err != nil {
		return app.Frame{}, err
	}
	b, err := json.Marshal(f)
	if err != nil {
		return app.Frame{}, err
	}
	return app.Frame{Type: string(f.Type), Data: b}, nil
}

// sseSubscriber is a stream's app.Subscriber: a queue bounded in bytes that
// the hub fills without ever blocking and the response writer drains.
type sseSubscriber struct {
	mu       sync.Mutex
	queue    []app.Frame
	bytes    int
	events   int // sequenced frames queued
	maxBytes int
	ended    bool // takes no more frames: overflowed, or the session is gone
	wake     chan struct{}
}

var _ app.Subscriber = (*sseSubscriber)(nil)

func newSSESubscriber(maxBytes int) *sseSubscriber {
	return &sseSubscriber{maxBytes: maxBytes, wake: make(chan struct{}, 1)}
}

// Send queues f. On overflow it drops f and everything after it, so what
// is queued stays a gapless prefix, and the stream ends once that is
// written. An empty queue always takes a frame, and a queue holding no
// event always takes one, however large: a resume then makes progress
// even when the bound is smaller than the snapshot and one event.
func (q *sseSubscriber) Send(f app.Frame) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.ended {
		return false
	}
	progress := len(q.queue) == 0 || f.Seq > 0 && q.events == 0
	if !progress && q.bytes+len(f.Data) > q.maxBytes {
		q.ended = true
		q.signal()
		return false
	}
	q.queue = append(q.queue, f)
	q.bytes += len(f.Data)
	if f.Seq > 0 {
		q.events++
	}
	if f.Type == "session_deleted" {
		q.ended = true // nothing follows; the hub has dropped its subscribers
	}
	q.signal()
	return true
}

func (q *sseSubscriber) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// take hands over everything queued; ended reports that nothing more will
// come after it.
func (q *sseSubscriber) take() (frames []app.Frame, ended bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	frames, q.queue, q.bytes, q.events = q.queue, nil, 0, 0
	return frames, q.ended
}

// close refuses further frames.
func (q *sseSubscriber) close() {
	q.mu.Lock()
	q.ended, q.queue, q.bytes, q.events = true, nil, 0, 0
	q.mu.Unlock()
}

// sseResponse streams the subscriber's frames. It is the strict server's
// response object: the generated one for text/event-stream copies a reader
// to the end and flushes nothing.
type sseResponse struct {
	ctx   context.Context // the request's: done when the client goes away
	stop  <-chan struct{}
	sub   *sseSubscriber
	cfg   SSEConfig
	leave func()
}

var (
	keepaliveLine = []byte(": keepalive\n\n")
	lineBreaks    = strings.NewReplacer("\r", "", "\n", "")
)

func (r *sseResponse) VisitStreamEventsResponse(w http.ResponseWriter) error {
	defer r.leave()
	defer r.sub.close()
	rc := http.NewResponseController(w)
	// The request is read; past the server's read deadline, net/http
	// takes its timed-out background read for a closed connection and
	// cancels the request's context.
	_ = rc.SetReadDeadline(time.Time{})
	// Whatever write deadline the server may set, the stream has none but
	// the per-write one below.
	_ = rc.SetWriteDeadline(time.Time{})
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return nil
	}
	write := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(r.cfg.WriteTimeout))
		if _, err := w.Write(b); err != nil {
			return false
		}
		if err := rc.Flush(); err != nil {
			return false
		}
		_ = rc.SetWriteDeadline(time.Time{})
		return true
	}
	keepalive := time.NewTicker(r.cfg.Keepalive)
	defer keepalive.Stop()
	var buf []byte
	for {
		frames, ended := r.sub.take()
		if len(frames) > 0 {
			buf = buf[:0]
			for _, f := range frames {
				buf = appendSSE(buf, f)
			}
			if !write(buf) {
				return nil
			}
		}
		if ended {
			return nil
		}
		select {
		case <-r.sub.wake:
		case <-keepalive.C:
			if !write(keepaliveLine) {
				return nil
			}
		case <-r.ctx.Done():
			return nil
		case <-r.stop:
			return nil
		}
	}
}

// appendSSE appends f as one SSE event: sequenced frames carry their seq as
// the event id, so that Last-Event-ID is the resume cursor. The JSON holds no
// raw line breaks; the type is a fixed name, cleaned all the same.
func appendSSE(b []byte, f app.Frame) []byte {
	if f.Seq > 0 {
		b = append(b, "id: "...)
		b = strconv.AppendUint(b, f.Seq, 10)
		b = append(b, '\n')
	}
	b = append(b, "event: "...)
	b = append(b, lineBreaks.Replace(f.Type)...)
	b = append(b, "\ndata: "...)
	b = append(b, f.Data...)
	return append(b, '\n', '\n')
}
