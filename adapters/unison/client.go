package unison

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/diminuendo/diminuendo/adapters/upstream"
	"github.com/diminuendo/diminuendo/domain"
)

// service names Unison in errors and health reports.
const service = "unison"

// Client speaks Unison's REST API. It is safe for concurrent use.
type Client struct {
	up *upstream.Client
}

// New returns a Client for cfg; hc nil means a plain http.Client. Redirects
// are left to hc: net/http drops the Authorization header when a redirect
// leaves the original host.
func New(cfg Config, hc *http.Client) (*Client, error) {
	up, err := upstream.New(upstream.Config{
		Service: service, BaseURL: cfg.BaseURL, APIKey: cfg.APIKey, Timeout: cfg.Timeout,
		MaxAttempts: cfg.MaxAttempts, RetryInitial: cfg.RetryBase, RetryMax: cfg.RetryMax,
		BreakerFailures: cfg.BreakerFailures, BreakerCooldown: cfg.BreakerCooldown,
		// A 429's Retry-After says when Unison can take us again.
		HonourRetryAfter: true,
	}, defaults, hc)
	if err != nil {
		return nil, err
	}
	return &Client{up: up}, nil
}

// BreakerOpen reports whether calls are currently refused without trying.
func (c *Client) BreakerOpen() bool { return c.up.BreakerOpen() }

// do sends req, and sends it again on transient failures only when retry:
// when repeating it cannot change the outcome of an earlier attempt that did
// reach Unison. A 2xx answer is decoded into out (nil: not read). attempts
// counts what was sent, which tells the echo of a lost reply from a real
// refusal (Put, Delete).
func (c *Client) do(ctx context.Context, req upstream.Request, retry bool, out any) (attempts int, err error) {
	body, err := upstream.Call(ctx, c.up, retry, func(ctx context.Context) ([]byte, error) {
		attempts++
		return c.up.Send(ctx, req)
	})
	if err != nil {
		return attempts, c.toDomain(err)
	}
	// Decoded outside the retries: a malformed answer is a bug on one side,
	// not an outage, and a repeat would not mend it.
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			return attempts, domain.Wrap(domain.KindInternal, "malformed unison response", err)
		}
	}
	return attempts, nil
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

// toDomain maps a failure to its domain error. Unison's refusals are read
// here; outages map as for any upstream (upstream.Client.ToDomain).
func (c *Client) toDomain(err error) error {
	return c.up.ToDomain(err, func(se *upstream.StatusError) error {
		switch se.Status {
		case http.StatusNotFound:
			return domain.Wrap(domain.KindNotFound, "not found", se)
		case http.StatusConflict:
			var body struct {
				Error struct {
					CurrentVersion int64 `json:"currentVersion"`
				} `json:"error"`
			}
			_ = json.Unmarshal(se.Body, &body)
			return domain.Wrap(domain.KindConflict, "version conflict", &ConflictError{CurrentVersion: body.Error.CurrentVersion})
		case http.StatusRequestEntityTooLarge:
			return domain.Wrap(domain.KindCapacityExceeded, "record too large", se)
		default:
			return domain.Wrap(domain.KindInternal, "unexpected unison response", se)
		}
	})
}
