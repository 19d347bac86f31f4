// Command floor is the raw WebSocket server the gateway's load figures are
// measured against: gorilla/websocket with nothing else, one reader and one
// writer goroutine per connection, the writer putting every message queued
// for its connection into one frame, newline-separated. It serves the same
// fan-out shape as the gateway's fan-out test: connections subscribe to a
// topic (GET /ws?topic=N), and POST /publish encodes each event once and
// queues the same bytes on every connection of the topic.
//
// It listens on HOST:PORT (127.0.0.1:0 by default) and prints
// "floor listening on http://ADDR", answers GET /api/health like the
// gateway, so bench/internal/gateway can run it as a child process.
//
//	POST /publish?topic=0&events=100&bytes=90&interval=25ms
//
// publishes events text_delta events (the last one turn_complete) of about
// bytes bytes each, seq counting on per topic, ts the publish time in Unix
// ms, interval apart (0: as fast as the queues take them), and answers once
// all are queued. With gaps=G0,G1,... (milliseconds, one per event) it
// waits Gi before event i instead, to replay another run's schedule,
// bursts included.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

var upgrader = websocket.Upgrader{
	ReadBufferSize:  1024,
	WriteBufferSize: 1024,
	WriteBufferPool: &sync.Pool{},
	CheckOrigin:     func(*http.Request) bool { return true },
}

// conn is one subscriber: its queue and the signal that wakes its writer.
type conn struct {
	ws     *websocket.Conn
	mu     sync.Mutex
	queue  [][]byte
	wake   chan struct{}
	closed chan struct{}
}

func (c *conn) push(b []byte) {
	c.mu.Lock()
	c.queue = append(c.queue, b)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// writer drains the whole queue into one frame per wake-up: the messages
// joined into one reused buffer and written with WriteMessage, which puts
// them in a single frame and a single write (writing them one by one into
// the library's message writer would split the frame into fragments, one
// write each, whenever the batch outgrows its write buffer).
func (c *conn) writer() {
	var spare [][]byte
	var frame []byte
	for {
		select {
		case <-c.closed:
			return
		case <-c.wake:
		}
		c.mu.Lock()
		if len(c.queue) == 0 {
			c.mu.Unlock()
			continue
		}
		// The two queues swap: the writer sends one while pushes fill the other.
		batch := c.queue
		c.queue = spare[:0]
		c.mu.Unlock()
		frame = frame[:0]
		for i, b := range batch {
			if i > 0 {
				frame = append(frame, '\n')
			}
			frame = append(frame, b...)
		}
		if err := c.ws.WriteMessage(websocket.TextMessage, frame); err != nil {
			return
		}
		if cap(frame) > 1<<20 {
			frame = nil // a rare huge batch does not stay with the connection
		}
		clear(batch)
		spare = batch
	}
}

type topic struct {
	mu    sync.Mutex
	conns map[*conn]struct{}
	seq   uint64
	pub   sync.Mutex // one publish at a time per topic keeps seq in order
}

type server struct {
	mu     sync.Mutex
	topics map[string]*topic
	count  atomic.Int64
}

func (s *server) topic(name string) *topic {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.topics[name]
	if t == nil {
		t = &topic{conns: map[*conn]struct{}{}}
		s.topics[name] = t
	}
	return t
}

func (s *server) ws(w http.ResponseWriter, r *http.Request) {
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &conn{ws: ws, wake: make(chan struct{}, 1), closed: make(chan struct{})}
	t := s.topic(r.URL.Query().Get("topic"))
	t.mu.Lock()
	t.conns[c] = struct{}{}
	t.mu.Unlock()
	s.count.Add(1)
	go c.writer()
	// The reader: the handler's goroutine returns at once, so net/http's
	// buffers go back; a goroutine of its own reads until the peer leaves.
	go func() {
		defer func() {
			t.mu.Lock()
			delete(t.conns, c)
			t.mu.Unlock()
			s.count.Add(-1)
			close(c.closed)
			_ = ws.Close()
		}()
		for {
			if _, _, err := ws.NextReader(); err != nil {
				return
			}
		}
	}()
}

func (s *server) publish(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	n, _ := strconv.Atoi(q.Get("events"))
	size, _ := strconv.Atoi(q.Get("bytes"))
	interval, _ := time.ParseDuration(q.Get("interval"))
	if n < 1 || n > 1_000_000 || size < 0 || size > 1<<20 || interval < 0 || interval > time.Minute {
		http.Error(w, "events 1-1000000, bytes 0-1048576, interval 0-1m", http.StatusBadRequest)
		return
	}
	gaps, ok := parseGaps(q.Get("gaps"), n)
	if !ok {
		http.Error(w, "gaps: one wait in ms (0-60000) per event, comma-separated", http.StatusBadRequest)
		return
	}
	t := s.topic(q.Get("topic"))
	t.pub.Lock()
	defer t.pub.Unlock()
	next := time.Now()
	var subs []*conn
	for i := 0; i < n; i++ {
		switch {
		case gaps != nil:
			next = next.Add(gaps[i])
			time.Sleep(time.Until(next))
		case interval > 0:
			next = next.Add(interval)
			time.Sleep(time.Until(next))
		}
		typ := "text_delta"
		if i == n-1 {
			typ = "turn_complete"
		}
		t.mu.Lock()
		t.seq++
		seq := t.seq
		subs = subs[:0]
		for c := range t.conns {
			subs = append(subs, c)
		}
		t.mu.Unlock()
		b := event(typ, seq, size)
		for _, c := range subs {
			c.push(b)
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// event is one pre-encoded frame of about size bytes, padded with text.
func event(typ string, seq uint64, size int) []byte {
	head, _ := json.Marshal(struct {
		Type string `json:"type"`
		Seq  uint64 `json:"seq"`
		TS   int64  `json:"ts"`
	}{typ, seq, time.Now().UnixMilli()})
	var b bytes.Buffer
	b.Write(head[:len(head)-1])
	b.WriteString(`,"text":"`)
	if pad := size - len(head) - 10; pad > 0 {
		b.WriteString(strings.Repeat("x", pad))
	}
	b.WriteString(`"}`)
	return b.Bytes()
}

func newServer() *server { return &server{topics: map[string]*topic{}} }

func (s *server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", s.ws)
	mux.HandleFunc("POST /publish", s.publish)
	mux.HandleFunc("GET /api/health", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"status":"ok","connections":%d}`, s.count.Load())
	})
	return mux
}

func main() {
	host, port := os.Getenv("HOST"), os.Getenv("PORT")
	if host == "" {
		host = "127.0.0.1"
	}
	if port == "" {
		port = "0"
	}
	mux := newServer().routes()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "floor listening on http://%s\n", ln.Addr())
	if err := http.Serve(ln, mux); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

// parseGaps reads a publish's schedule: nil when s is empty, else exactly
// n waits of 0-60000 ms.
func parseGaps(s string, n int) ([]time.Duration, bool) {
	if s == "" {
		return nil, true
	}
	parts := strings.Split(s, ",")
	if len(parts) != n {
		return nil, false
	}
	gaps := make([]time.Duration, n)
	for i, p := range parts {
		ms, err := strconv.Atoi(p)
		if err != nil || ms < 0 || ms > 60_000 {
			return nil, false
		}
		gaps[i] = time.Duration(ms) * time.Millisecond
	}
	return gaps, true
}
