package upstream

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/diminuendo/diminuendo/domain"
)

// Request is one exchange of a call.
type Request struct {
	Method string
	// Path is the route's segments below the base URL (see URL).
	Path  []string
	Query url.Values
	// Body, when non-nil, is sent as JSON.
	Body any
}

// Send makes one exchange with the API key: req's Body as JSON in, a 2xx
// answer's body back. Any other status is a *StatusError.
func (c *Client) Send(ctx context.Context, req Request) ([]byte, error) {
	var rd io.Reader
	if req.Body != nil {
		b, err := json.Marshal(req.Body)
		if err != nil {
			return nil, domain.Wrap(domain.KindInternal, "cannot encode "+c.cfg.Service+" request", err)
		}
		rd = bytes.NewReader(b)
	}
	hreq, err := http.NewRequestWithContext(ctx, req.Method, c.URL(req.Query, req.Path...), rd)
	if err != nil {
		return nil, domain.Wrap(domain.KindInternal, "cannot build "+c.cfg.Service+" request", err)
	}
	if req.Body != nil {
		hreq.Header.Set("Content-Type", "application/json")
	}
	hreq.Header.Set("Accept", "application/json")
	c.Authorize(hreq.Header)
	resp, err := c.http.Do(hreq)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxResponse+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > c.cfg.MaxResponse {
		return nil, fmt.Errorf("%s sent an answer larger than %d bytes", c.cfg.Service, c.cfg.MaxResponse)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, c.statusError(resp, data)
	}
	return data, nil
}

// SendJSON is Send with the 2xx answer decoded into out (nil: not read).
// An answer that does not decode is a failed attempt like a 5xx: the
// service sent what it should not.
func (c *Client) SendJSON(ctx context.Context, req Request, out any) error {
	data, err := c.Send(ctx, req)
	if err != nil || out == nil {
		return err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s sent an unreadable answer to %s /%s: %w", c.cfg.Service, req.Method, strings.Join(req.Path, "/"), err)
	}
	return nil
}

// StatusError describes a refused exchange the client did not make itself
// (a WebSocket upgrade), reading what it can of the body.
func (c *Client) StatusError(resp *http.Response) *StatusError {
	var data []byte
	if resp.Body != nil {
		data, _ = io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxResponse))
	}
	return c.statusError(resp, data)
}

func (c *Client) statusError(resp *http.Response, body []byte) *StatusError {
	se := &StatusError{Service: c.cfg.Service, Status: resp.StatusCode, Body: body}
	var eb struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &eb) == nil {
		se.Code, se.Message = eb.Error.Code, eb.Error.Message
	}
	if c.cfg.HonourRetryAfter && (resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests) {
		se.RetryAfter = retryAfter(resp.Header)
	}
	return se
}

// retryAfter reads a Retry-After given in seconds; dates are ignored.
func retryAfter(h http.Header) time.Duration {
	n, err := strconv.Atoi(h.Get("Retry-After"))
	if err != nil || n <= 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}

// maxHealth bounds a health answer, which is a few small fields.
const maxHealth = 64 << 10

// Health asks a health route once and decodes a 200 answer into out. It
// sends no key and goes around the breaker and the retries, so that it sees
// the service as it is now, not as the breaker last saw it.
func (c *Client) Health(ctx context.Context, out any, path ...string) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL(nil, path...), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxHealth)).Decode(out); err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s health answered %d", c.cfg.Service, resp.StatusCode)
	}
	return nil
}
