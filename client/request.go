package client

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/diminuendo/diminuendo/api"
)

func (c *Client) newID() string { return "go-" + strconv.FormatUint(c.ids.Add(1), 10) }

func (c *Client) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, c.opts.RequestTimeout)
}

// waitOpen returns the open connection, waiting through a reconnection.
func (c *Client) waitOpen(ctx context.Context) (*conn, error) {
	for {
		c.mu.Lock()
		w, ready := c.cur, c.ready
		c.mu.Unlock()
		if w != nil {
			return w, nil
		}
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-c.stopped:
			return nil, ErrClosed
		}
	}
}

func (c *Client) register(rid string) chan Event {
	ch := make(chan Event, 1)
	c.mu.Lock()
	c.pending[rid] = ch
	c.mu.Unlock()
	return ch
}

func (c *Client) unregister(rids ...string) {
	c.mu.Lock()
	for _, rid := range rids {
		delete(c.pending, rid)
	}
	c.mu.Unlock()
}

func (c *Client) send(w *conn, msg any) error {
	b, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	c.trace(true, b)
	if err := w.write(b); err != nil {
		return ErrConnectionLost
	}
	return nil
}

// roundTrip sends msg, which carries requestId rid, and waits for the frame
// answering it. An error frame becomes an *Error.
func (c *Client) roundTrip(ctx context.Context, rid string, msg any) (Event, error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	w, err := c.waitOpen(ctx)
	if err != nil {
		return Event{}, err
	}
	return c.roundTripOn(ctx, w, rid, msg)
}

func (c *Client) roundTripOn(ctx context.Context, w *conn, rid string, msg any) (Event, error) {
	ch := c.register(rid)
	defer c.unregister(rid)
	if err := c.send(w, msg); err != nil {
		return Event{}, err
	}
	select {
	case ev := <-ch:
		return reply(ev)
	case <-w.lost:
		// The reader hands over a reply before it gives up the connection.
		select {
		case ev := <-ch:
			return reply(ev)
		default:
			return Event{}, ErrConnectionLost
		}
	case <-ctx.Done():
		return Event{}, ctx.Err()
	case <-c.stopped:
		return Event{}, ErrClosed
	}
}

func reply(ev Event) (Event, error) {
	if ev.Type == TypeError {
		return ev, errorOf(ev)
	}
	return ev, nil
}

// command sends msg, which the gateway does not answer on success, and
// returns the gateway's refusal if there is one. A ping follows it: the
// gateway handles a connection's messages in order, so by the time the
// pong arrives any error about msg has arrived too.
func (c *Client) command(ctx context.Context, rid string, msg any) error {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	w, err := c.waitOpen(ctx)
	if err != nil {
		return err
	}
	bid := c.newID()
	ch, barrier := c.register(rid), c.register(bid)
	defer c.unregister(rid, bid)
	if err := c.send(w, msg); err != nil {
		return err
	}
	if err := c.send(w, api.PingMessage{Type: "ping", RequestId: &bid}); err != nil {
		return err
	}
	refused := func() error {
		select {
		case ev := <-ch:
			_, err := reply(ev)
			return err
		default:
			return nil
		}
	}
	select {
	case <-barrier:
		// Whether the ping got a pong or was itself refused (rate limit),
		// msg was handled before it.
		return refused()
	case <-w.lost:
		select {
		case <-barrier:
			return refused()
		default:
		}
		if err := refused(); err != nil {
			return err
		}
		return ErrConnectionLost
	case <-ctx.Done():
		return ctx.Err()
	case <-c.stopped:
		return ErrClosed
	}
}

// withRequestID returns msg (a JSON object) with requestId set to rid.
func withRequestID(msg any, rid string) (map[string]json.RawMessage, error) {
	b, err := json.Marshal(msg)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, errors.New("client: a message is a JSON object")
	}
	id, _ := json.Marshal(rid)
	m["requestId"] = id
	return m, nil
}

// Request sends any client message (an api message type, or a map) with a
// fresh requestId and returns the frame that answers it; an error frame
// becomes an *Error. Use it for messages without a method here; join
// sessions with Join or Resume, which keep the position resuming needs.
func (c *Client) Request(ctx context.Context, msg any) (Event, error) {
	rid := c.newID()
	m, err := withRequestID(msg, rid)
	if err != nil {
		return Event{}, err
	}
	return c.roundTrip(ctx, rid, m)
}

// Command sends a client message the gateway does not answer on success
// (run_turn, stop_turn, answer_question) and returns its refusal, if any.
func (c *Client) Command(ctx context.Context, msg any) error {
	rid := c.newID()
	m, err := withRequestID(msg, rid)
	if err != nil {
		return err
	}
	return c.command(ctx, rid, m)
}

// Ping measures the round trip to the gateway.
func (c *Client) Ping(ctx context.Context) (time.Duration, error) {
	rid := c.newID()
	start := time.Now()
	_, err := c.roundTrip(ctx, rid, api.PingMessage{Type: "ping", RequestId: &rid})
	return time.Since(start), err
}
