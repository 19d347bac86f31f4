package ensemble

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// maxResponse bounds a response body: a catalog of thousands of models
// fits many times over.
const maxResponse = 8 << 20

// getJSON performs one GET and decodes a 2xx answer into out; anything else
// is a *statusError. authorized sends the API key.
func (a *Adapter) getJSON(ctx context.Context, route string, authorized bool, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.endpoint(route), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if authorized && a.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+a.cfg.APIKey)
	}
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
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("ensemble sent an unreadable answer to %s: %w", route, err)
	}
	return nil
}
