package upstream

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/diminuendo/diminuendo/domain"
)

// StatusError is an answer outside 2xx, with the {"error":{"code",
// "message"}} body the upstreams send when there is one.
type StatusError struct {
	Service string
	Status  int
	Code    string
	Message string
	// Body is the answer as sent, for fields beyond code and message.
	Body []byte
	// RetryAfter is the answer's Retry-After, read only when the client
	// honours it.
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("%s answered %d", e.Service, e.Status)
	}
	return fmt.Sprintf("%s answered %d %s: %s", e.Service, e.Status, e.Code, e.Message)
}

// outage reports whether the answer says the service cannot serve us now:
// it failed (5xx), it is shedding load (429), or it refused our own
// credential (401, 403), which no client can change.
func (e *StatusError) outage() bool {
	switch e.Status {
	case http.StatusTooManyRequests, http.StatusUnauthorized, http.StatusForbidden:
		return true
	}
	return e.Status >= 500
}

// IsStatus reports whether err is an answer of the given status.
func IsStatus(err error, status int) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Status == status
}

// ErrBreakerOpen is the failure of a call the open breaker refused
// without sending anything.
var ErrBreakerOpen = errors.New("circuit breaker open")

// callerGone marks a failure caused by the caller's context ending; it says
// nothing about the upstream's health.
type callerGone struct{ err error }

func (e *callerGone) Error() string { return e.err.Error() }
func (e *callerGone) Unwrap() error { return e.err }

// transient reports whether err is worth another attempt: the network, a
// timeout or the service itself failed (5xx, 429). Any other answer would
// not change, a caller that gave up wants none, an open breaker has
// answered already, and a domain error is a fault of ours.
func transient(err error) bool {
	var (
		g  *callerGone
		de *domain.Error
		se *StatusError
	)
	switch {
	case err == nil, errors.As(err, &g), errors.As(err, &de), errors.Is(err, ErrBreakerOpen):
		return false
	case errors.As(err, &se):
		return se.Status >= 500 || se.Status == http.StatusTooManyRequests
	}
	return true
}

// Refusal maps an answer that refused the request for what it asked (a 4xx
// other than 401, 403 and 429) to the domain error it means to one
// adapter; nil leaves it to the default, KindInternal "<service> rejected
// the request".
type Refusal func(*StatusError) error

// ToDomain maps the failure of a call to the domain error the app
// understands; with the adapter's Refusal this is the one place an
// upstream's statuses are interpreted. Domain errors pass unchanged;
// outages (network, timeouts, 5xx, 429, a refused credential, an
// unreadable answer, the open breaker) are KindUpstreamUnavailable.
func (c *Client) ToDomain(err error, refusal Refusal) error {
	if err == nil {
		return nil
	}
	var de *domain.Error
	if errors.As(err, &de) {
		return err
	}
	var se *StatusError
	if errors.As(err, &se) && !se.outage() {
		if refusal != nil {
			if mapped := refusal(se); mapped != nil {
				return mapped
			}
		}
		return domain.Wrap(domain.KindInternal, c.cfg.Service+" rejected the request", err)
	}
	de = domain.ErrUpstream(c.cfg.Service, err)
	if se != nil {
		de.RetryAfter = se.RetryAfter
	}
	return de
}
