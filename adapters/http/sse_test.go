package http

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/diminuendo/diminuendo/app"
)

func frame(seq uint64, typ string, size int) app.Frame {
	return app.Frame{Seq: seq, Type: typ, Data: []byte(`{"x":"` + strings.Repeat("a", size) + `"}`)}
}

func TestSSESubscriberOverflowKeepsAGaplessPrefix(t *testing.T) {
	q := newSSESubscriber(100)
	if !q.Send(frame(0, "state_snapshot", 500)) {
		t.Fatal("an empty queue must take one frame whatever its size")
	}
	frames, ended := q.take()
	if len(frames) != 1 || ended {
		t.Fatalf("take: %d frames, ended %v", len(frames), ended)
	}
	if !q.Send(frame(0, "state_snapshot", 500)) || !q.Send(frame(1, "text_delta", 500)) {
		t.Fatal("a queue holding no event must take one whatever its size")
	}
	if q.Send(frame(2, "text_delta", 1)) {
		t.Fatal("a frame over the bound was taken")
	}
	q = newSSESubscriber(100)
	for seq := uint64(1); seq <= 3; seq++ {
		if !q.Send(frame(seq, "text_delta", 10)) {
			t.Fatalf("frame %d refused under the bound", seq)
		}
	}
	if q.Send(frame(4, "text_delta", 80)) {
		t.Fatal("a frame over the bound was taken")
	}
	if q.Send(frame(5, "text_delta", 1)) {
		t.Fatal("a frame after an overflow was taken: the queue would have a gap")
	}
	frames, ended = q.take()
	if !ended || len(frames) != 3 || frames[0].Seq != 1 || frames[2].Seq != 3 {
		t.Fatalf("after overflow: %d frames, ended %v", len(frames), ended)
	}
}

func TestSSESubscriberEndsAfterSessionDeleted(t *testing.T) {
	q := newSSESubscriber(1 << 10)
	if !q.Send(app.Frame{Type: "session_deleted", Data: []byte(`{}`)}) {
		t.Fatal("session_deleted refused")
	}
	if q.Send(frame(1, "text_delta", 1)) {
		t.Fatal("a frame after session_deleted was taken")
	}
	if frames, ended := q.take(); len(frames) != 1 || !ended {
		t.Fatalf("take: %d frames, ended %v", len(frames), ended)
	}
}

func TestAppendSSE(t *testing.T) {
	got := string(appendSSE(nil, app.Frame{Seq: 7, Type: "text_delta", Data: []byte(`{"text":"a\nb"}`)}))
	if want := "id: 7\nevent: text_delta\ndata: {\"text\":\"a\\nb\"}\n\n"; got != want {
		t.Fatalf("sequenced: %q, want %q", got, want)
	}
	got = string(appendSSE(nil, app.Frame{Type: "session_state\r\nid: 9", Data: []byte(`{}`)}))
	if want := "event: session_stateid: 9\ndata: {}\n\n"; got != want {
		t.Fatalf("unsequenced: %q, want %q", got, want)
	}
}

// The writer sends what is queued, keepalives while idle, and returns when
// the client goes away, leaving the session exactly once.
func TestSSEResponseStreamsAndLeaves(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	q := newSSESubscriber(1 << 10)
	q.Send(frame(0, "state_snapshot", 1))
	left := make(chan struct{}, 2)
	r := &sseResponse{ctx: ctx, stop: make(chan struct{}), sub: q,
		cfg: SSEConfig{Keepalive: 10 * time.Millisecond, QueueBytes: 1 << 10, WriteTimeout: time.Second}, leave: func() { left <- struct{}{} }}
	w := newSyncRecorder()
	done := make(chan error, 1)
	go func() { done <- r.VisitStreamEventsResponse(w) }()
	q.Send(frame(1, "text_delta", 1))
	deadline := time.After(5 * time.Second)
	for !strings.Contains(w.body(), ": keepalive\n\n") || !strings.Contains(w.body(), "id: 1\nevent: text_delta\n") {
		select {
		case <-deadline:
			t.Fatalf("stream so far: %q", w.body())
		case <-time.After(5 * time.Millisecond):
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the writer did not return when the client went away")
	}
	if len(left) != 1 {
		t.Fatalf("left %d times", len(left))
	}
	if q.Send(frame(2, "text_delta", 1)) {
		t.Fatal("a closed stream still takes frames")
	}
	h := w.rec.Header()
	if h.Get("Content-Type") != "text/event-stream" || h.Get("Cache-Control") != "no-cache" || h.Get("X-Accel-Buffering") != "no" {
		t.Fatalf("headers: %v", h)
	}
	if !strings.HasPrefix(w.body(), "event: state_snapshot\n") {
		t.Fatalf("the snapshot is not first: %q", w.body())
	}
}

// syncRecorder is an httptest.ResponseRecorder safe to read while written.
type syncRecorder struct {
	mu  sync.Mutex
	rec *httptest.ResponseRecorder
}

func newSyncRecorder() *syncRecorder { return &syncRecorder{rec: httptest.NewRecorder()} }

func (s *syncRecorder) Header() http.Header { return s.rec.Header() }

func (s *syncRecorder) WriteHeader(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rec.WriteHeader(code)
}

func (s *syncRecorder) Flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rec.Flush()
}

func (s *syncRecorder) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rec.Write(b)
}

func (s *syncRecorder) body() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rec.Body.String()
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
