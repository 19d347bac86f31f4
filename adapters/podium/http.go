package podium

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// maxResponse bounds a response body: a full page of 1000 events, each
// possibly a large text delta, with room to spare.
const maxResponse = 64 << 20

// do performs one HTTP exchange: body (if any) as JSON in, the 2xx answer
// decoded into out (if any), anything else as a *statusError.
func (a *Adapter) do(ctx context.Context, method, url string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	a.authorize(req.Header)
	resp, err := a.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		se := &statusError{Status: resp.StatusCode}
		var eb struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(data, &eb) == nil {
			se.Code, se.Message = eb.Error.Code, eb.Error.Message
		}
		return se
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("podium sent an unreadable %s answer: %w", method, err)
		}
	}
	return nil
}

func (a *Adapter) authorize(h http.Header) {
	if a.cfg.APIKey != "" {
		h.Set("Authorization", "Bearer "+a.cfg.APIKey)
	}
}
