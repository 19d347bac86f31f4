package http

import (
	"context"
	"encoding/json"
	"time"

	"github.com/diminuendo/diminuendo/api"
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

var tokenExpiredFrame = errorEventFrame(api.ErrorCodeTOKENEXPIRED, "the token expired")

// errorEventFrame is an error event of the stream (ErrorEvent).
func errorEventFrame(code api.ErrorCode, msg string) app.Frame {
	b, _ := json.Marshal(api.ErrorEvent{Type: api.ErrorEventTypeError, Code: code, Message: msg}) // strings only: cannot fail
	return app.Frame{Type: string(api.ErrorEventTypeError), Data: b}
}

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
