package upstream

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sony/gobreaker/v2"
)

// Client calls one upstream service. It is safe for concurrent use.
type Client struct {
	cfg     Config
	base    *url.URL
	http    *http.Client
	breaker *gobreaker.CircuitBreaker[any]
}

// New returns a client for cfg, whose unset tuning fields take the
// service's defaults. hc carries the transport (nil: a client of its own);
// timeouts are applied through contexts, so hc needs none. Redirects are
// left to hc: net/http drops the Authorization header when a redirect
// leaves the original host.
func New(cfg, defaults Config, hc *http.Client) (*Client, error) {
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, errors.New(cfg.Service + ": BaseURL must be an absolute http(s) URL")
	}
	if base.RawQuery != "" || base.Fragment != "" {
		return nil, errors.New(cfg.Service + ": BaseURL must not carry a query or fragment")
	}
	if hc == nil {
		hc = &http.Client{}
	}
	cfg = cfg.withDefaults(defaults)
	if !cfg.complete() {
		return nil, errors.New(cfg.Service + ": the resilience defaults leave a figure unset")
	}
	return &Client{cfg: cfg, base: base, http: hc, breaker: newBreaker(cfg)}, nil
}

// URL is the address of a route below the base URL: each segment escaped
// as one path segment, so an id can never reach another route, and q (if
// any) as the query.
func (c *Client) URL(q url.Values, segments ...string) string {
	u := *c.base
	esc := make([]string, len(segments))
	for i, s := range segments {
		esc[i] = escapeSegment(s)
	}
	u.Path = c.base.Path + "/" + strings.Join(segments, "/")
	u.RawPath = c.base.EscapedPath() + "/" + strings.Join(esc, "/")
	u.RawQuery = q.Encode()
	return u.String()
}

// escapeSegment escapes s as one path segment. ":" is escaped too, as in
// Unison's own examples (tenant%3Aacme%2Fsettings), and a segment of dots is
// fully escaped so no client, proxy or server resolves it as "." or "..".
func escapeSegment(s string) string {
	if s != "" && strings.Trim(s, ".") == "" {
		return strings.Repeat("%2E", len(s))
	}
	return strings.ReplaceAll(url.PathEscape(s), ":", "%3A")
}

// Authorize sets the bearer key on h, for exchanges the client does not
// make itself (a WebSocket dial).
func (c *Client) Authorize(h http.Header) {
	if c.cfg.APIKey != "" {
		h.Set("Authorization", "Bearer "+c.cfg.APIKey)
	}
}

// HTTP is the client's transport, for exchanges it does not make itself.
func (c *Client) HTTP() *http.Client { return c.http }

// Timeout is the bound of one attempt, defaults applied.
func (c *Client) Timeout() time.Duration { return c.cfg.Timeout }

// BreakerOpen reports whether calls are refused without trying.
func (c *Client) BreakerOpen() bool { return c.breaker.State() == gobreaker.StateOpen }
