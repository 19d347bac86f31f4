package unison

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/sony/gobreaker/v2"

	"diminuendo/domain"
)

// service names Unison in errors and health reports.
const service = "unison"

// maxResponseBytes bounds what one response may make us buffer: a full
// page of maximal values.
const maxResponseBytes = 128 << 20

var errCircuitOpen = errors.New("circuit breaker open")

// Client speaks Unison's REST API. It is safe for concurrent use.
type Client struct {
	cfg  Config
	http *http.Client
	cb   *gobreaker.CircuitBreaker[reply]
}

// New returns a Client for cfg; hc nil means a plain http.Client. Redirects
// are left to hc: net/http drops the Authorization header when a redirect
// leaves the original host.
func New(cfg Config, hc *http.Client) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if hc == nil {
		hc = &http.Client{}
	}
	c := &Client{cfg: cfg, http: hc}
	c.cb = gobreaker.NewCircuitBreaker[reply](gobreaker.Settings{
		Name:        service,
		MaxRequests: 1,
		Timeout:     cfg.BreakerCooldown,
		ReadyToTrip: func(n gobreaker.Counts) bool { return n.ConsecutiveFailures >= cfg.BreakerFailures },
		// A caller that gave up says nothing about Unison's health.
		IsExcluded: func(err error) bool { return errors.Is(err, errCallerGone) },
	})
	return c, nil
}

// BreakerOpen reports whether calls are currently refused without trying.
func (c *Client) BreakerOpen() bool { return c.cb.State() == gobreaker.StateOpen }

// request is one logical call. retry is set only when repeating it cannot
// change the outcome of an earlier attempt that did reach Unison.
type request struct {
	method string
	path   string // escaped, below the base URL
	body   any
	retry  bool
}

type reply struct {
	status   int
	body     []byte
	attempts int
}

var errCallerGone = errors.New("caller gave up")

// statusError is an answer worth retrying: 5xx or 429.
type statusError struct {
	status     int
	retryAfter time.Duration
}

func (e *statusError) Error() string { return "status " + strconv.Itoa(e.status) }

// do runs req through the breaker, retrying per req.retry. Transport
// failures, 5xx and 429 come back as KindUpstreamUnavailable; any other
// status is returned in the reply for the caller to interpret.
func (c *Client) do(ctx context.Context, req request) (reply, error) {
	var body []byte
	if req.body != nil {
		var err error
		if body, err = json.Marshal(req.body); err != nil {
			return reply{}, domain.Wrap(domain.KindInternal, "cannot encode unison request", err)
		}
	}
	tries := uint(1)
	if req.retry {
		tries = uint(c.cfg.MaxAttempts)
	}
	attempts := 0
	op := func() (reply, error) {
		attempts++
		rep, err := c.cb.Execute(func() (reply, error) { return c.attempt(ctx, req.method, req.path, body) })
		switch {
		case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
			return rep, backoff.Permanent(errCircuitOpen)
		case errors.Is(err, errCallerGone):
			return rep, backoff.Permanent(err)
		}
		var se *statusError
		if errors.As(err, &se) && se.retryAfter > 0 {
			if se.retryAfter > c.cfg.RetryMax {
				return rep, backoff.Permanent(err)
			}
			return rep, errors.Join(err, &backoff.RetryAfterError{Duration: se.retryAfter})
		}
		return rep, err
	}
	rep, err := backoff.Retry(ctx, op,
		backoff.WithBackOff(&backoff.ExponentialBackOff{
			InitialInterval:     c.cfg.RetryBase,
			RandomizationFactor: 0.5,
			Multiplier:          2,
			MaxInterval:         c.cfg.RetryMax,
		}),
		backoff.WithMaxTries(tries),
		backoff.WithMaxElapsedTime(0),
	)
	rep.attempts = attempts
	if err == nil {
		return rep, nil
	}
	de := domain.ErrUpstream(service, err)
	var se *statusError
	if errors.As(err, &se) {
		de.RetryAfter = se.retryAfter
	}
	return rep, de
}

// attempt makes one HTTP exchange under the per-attempt timeout.
func (c *Client) attempt(ctx context.Context, method, path string, body []byte) (reply, error) {
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	hreq, err := http.NewRequestWithContext(actx, method, c.cfg.BaseURL+path, rd)
	if err != nil {
		return reply{}, backoff.Permanent(err)
	}
	if body != nil {
		hreq.Header.Set("Content-Type", "application/json")
	}
	hreq.Header.Set("Accept", "application/json")
	if c.cfg.APIKey != "" {
		hreq.Header.Set("Authorization", "Bearer "+c.cfg.APIKey)
	}
	resp, err := c.http.Do(hreq)
	if err == nil {
		defer resp.Body.Close()
		var raw []byte
		raw, err = io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
		if err == nil && len(raw) > maxResponseBytes {
			err = fmt.Errorf("response larger than %d bytes", maxResponseBytes)
		}
		if err == nil {
			rep := reply{status: resp.StatusCode, body: raw}
			if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
				return rep, &statusError{status: resp.StatusCode, retryAfter: retryAfter(resp.Header)}
			}
			return rep, nil
		}
	}
	if ctx.Err() != nil {
		return reply{}, fmt.Errorf("%w: %w", errCallerGone, context.Cause(ctx))
	}
	return reply{}, err
}

// retryAfter reads a Retry-After given in seconds; dates are ignored.
func retryAfter(h http.Header) time.Duration {
	n, err := strconv.Atoi(h.Get("Retry-After"))
	if err != nil || n <= 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}

// apiError is Unison's error body.
type apiError struct {
	Error struct {
		Code           string `json:"code"`
		Message        string `json:"message"`
		CurrentVersion int64  `json:"currentVersion"`
	} `json:"error"`
}

// ConflictError is the cause of a KindConflict from a conditional write.
type ConflictError struct {
	// CurrentVersion is the key's version when the write was refused; 0
	// means the key does not exist.
	CurrentVersion int64
}

func (e *ConflictError) Error() string {
	return "current version " + strconv.FormatInt(e.CurrentVersion, 10)
}

// statusErr turns a non-2xx reply that do returned into a domain error.
func statusErr(rep reply) error {
	var ae apiError
	_ = json.Unmarshal(rep.body, &ae)
	cause := fmt.Errorf("unison answered %d %s: %s", rep.status, ae.Error.Code, ae.Error.Message)
	switch rep.status {
	case http.StatusNotFound:
		return domain.Wrap(domain.KindNotFound, "not found", cause)
	case http.StatusConflict:
		return domain.Wrap(domain.KindConflict, "version conflict", &ConflictError{CurrentVersion: ae.Error.CurrentVersion})
	case http.StatusRequestEntityTooLarge:
		return domain.Wrap(domain.KindCapacityExceeded, "record too large", cause)
	case http.StatusUnauthorized, http.StatusForbidden:
		// Our credentials are wrong: to the client, Unison is unusable.
		return domain.ErrUpstream(service, cause)
	default:
		return domain.Wrap(domain.KindInternal, "unexpected unison response", cause)
	}
}
