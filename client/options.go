package client

import (
	"context"
	"log/slog"
	"time"

	"github.com/gorilla/websocket"
)

// TokenSource returns the bearer token to present. It is called before
// every connection attempt and when the gateway warns that the current
// token is about to expire; return a fresh token each time it matters.
type TokenSource func(ctx context.Context) (string, error)

// StaticToken is a TokenSource that always returns tok.
func StaticToken(tok string) TokenSource {
	return func(context.Context) (string, error) { return tok, nil }
}

// Options configures a Client. Only URL is required.
type Options struct {
	// URL is the gateway's WebSocket endpoint, e.g. ws://127.0.0.1:8080/ws.
	URL string
	// TokenSource supplies the bearer token sent in the upgrade's
	// Authorization header. Nil sends none, which only a gateway in dev
	// mode accepts.
	TokenSource TokenSource

	// Dialer opens the WebSocket; nil uses a dialer with a 10 s handshake
	// timeout.
	Dialer *websocket.Dialer
	// MinBackoff and MaxBackoff bound the delay between reconnection
	// attempts (defaults 200 ms and 10 s). The delay doubles per failed
	// attempt and is jittered between half and all of it.
	MinBackoff, MaxBackoff time.Duration
	// MaxAttempts is how many reconnection attempts in a row may fail
	// before the client gives up and stops (default 10; negative: never
	// give up).
	MaxAttempts int
	// RequestTimeout bounds a request whose context has no deadline
	// (default 60 s: the gateway allows 30 s of upstream work per message).
	RequestTimeout time.Duration

	// OnEvent, when set, receives every event instead of the Events
	// channel, one at a time, in order, on a goroutine of the client. It
	// must not block for long: events queue up behind it.
	OnEvent func(Event)
	// OnState is told about connection state changes. It runs on the
	// client's goroutines and must return quickly.
	OnState func(State, error)
	// Trace, when set, sees every frame sent (sent true) and received, as
	// raw JSON. It runs on the client's goroutines and must return quickly.
	Trace func(sent bool, frame []byte)
	// Logger receives diagnostics (reconnections, failed token refreshes);
	// nil discards them.
	Logger *slog.Logger
}

func (o *Options) withDefaults() {
	if o.Dialer == nil {
		o.Dialer = &websocket.Dialer{HandshakeTimeout: 10 * time.Second, Proxy: websocket.DefaultDialer.Proxy}
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 200 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 10 * time.Second
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = o.MinBackoff
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = 10
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 60 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// State is the connection's state.
type State int

const (
	// Connecting: the first connection is being made.
	Connecting State = iota
	// Open: connected and authenticated; requests are sent at once.
	Open
	// Reconnecting: the connection dropped; requests wait for the next one.
	Reconnecting
	// Closed: the client stopped (Close, a refusal, or too many failures).
	Closed
)

func (s State) String() string {
	switch s {
	case Connecting:
		return "connecting"
	case Open:
		return "open"
	case Reconnecting:
		return "reconnecting"
	default:
		return "closed"
	}
}
