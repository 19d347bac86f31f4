package client

import "sync"

// queue holds events between the reader and the consumer. It never blocks
// the reader: a connection whose reader stalls is closed by the gateway as
// a slow consumer (4008), so a slow application must cost memory, not the
// connection.
type queue struct {
	mu     sync.Mutex
	items  []Event
	signal chan struct{}
}

func newQueue() *queue { return &queue{signal: make(chan struct{}, 1)} }

func (q *queue) push(ev Event) {
	q.mu.Lock()
	q.items = append(q.items, ev)
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

func (q *queue) take() []Event {
	q.mu.Lock()
	defer q.mu.Unlock()
	items := q.items
	q.items = nil
	return items
}

// dispatch delivers queued events in order to OnEvent or the Events
// channel until the client stops; then it delivers what is left (unless
// Close was called) and closes the channel.
func (c *Client) dispatch() {
	defer close(c.events)
	deliver := func(ev Event) bool {
		if c.opts.OnEvent != nil {
			c.opts.OnEvent(ev)
			return true
		}
		select {
		case c.events <- ev:
			return true
		case <-c.closing:
			return false
		}
	}
	for {
		for _, ev := range c.out.take() {
			if !deliver(ev) {
				return
			}
		}
		select {
		case <-c.out.signal:
		case <-c.stopped:
			for _, ev := range c.out.take() {
				if !deliver(ev) {
					return
				}
			}
			return
		}
	}
}
