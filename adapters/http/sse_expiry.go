package http

import (
	"context"
	"encoding/json"
	"time"

	"github.com/diminuendo/diminuendo/app"
	"github.com/diminuendo/diminuendo/domain"
)

// expiryKey holds the caller's token expiry in the request context.
type expiryKey struct{}

// tokenExpiry is when the token that authenticated the request expires;
// zero in dev mode.
func tokenExpiry(ctx context.Context) time.Time {
	exp, _ := ctx.Value(expiryKey{}).(time.Time)
	return exp
}

// endAtExpiry ends sub's stream when the caller's token expires, with a
// TOKEN_EXPIRED error event: like a WebSocket, an event stream does not
// outlive its credentials, and the client reconnects with a fresh token and
// Last-Event-ID, losing nothing. A token already past exp (inside the
// verifier's clock-skew grace, which suits one request) opens no stream.
// stop must be called once the stream ends.
func endAtExpiry(ctx context.Context, sub *sseSubscriber) (stop func(), err error) {
	exp := tokenExpiry(ctx)
	if exp.IsZero() {
		return func() {}, nil
	}
	until := time.Until(exp)
	if until <= 0 {
		return nil, domain.E(domain.KindTokenExpired, "token expired")
	}
	t := time.AfterFunc(until, func() { sub.endWith(tokenExpiredFrame) })
	return func() { t.Stop() }, nil
}

var tokenExpiredFrame = func() app.Frame {
	b, _ := json.Marshal(map[string]string{"type": "error", "code": "TOKEN_EXPIRED", "message": "the token expired"})
	return app.Frame{Type: "error", Data: b}
}()

// endWith queues f as the stream's last frame, whatever the bound, and
// ends the stream once it is written.
func (q *sseSubscriber) endWith(f app.Frame) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.ended {
		return
	}
	q.queue = append(q.queue, f)
	q.bytes += len(f.Data)
	q.ended = true
	q.signal()
}
