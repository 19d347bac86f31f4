package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// X-Request-Id is echoed only when it is a short safe token; anything else
// is replaced by a fresh id, in the header and in the error body alike.
func TestRequestIDEchoedOnlyWhenSafe(t *testing.T) {
	g, _ := startAuthGateway(t, nil)
	for _, in := range []string{"<img src=x onerror=alert(1)>", strings.Repeat("x", 4096), "ok-id-1"} {
		r := g.restFrom(t, "", "GET", "/api/sessions", "", nil, http.Header{"X-Request-Id": {in}})
		got := r.header.Get("X-Request-Id")
		var body struct {
			Error struct {
				RequestID string `json:"requestId"`
			} `json:"error"`
		}
		mustUnmarshal(t, r.body, &body)
		if body.Error.RequestID != got {
			t.Errorf("body names %q, header %q", body.Error.RequestID, got)
		}
		if in == "ok-id-1" {
			if got != in {
				t.Errorf("a safe id was replaced: %q", got)
			}
			continue
		}
		if got == in || len(got) != 32 || strings.Contains(string(r.body), in) {
			t.Errorf("an unsafe id (%d bytes) came back: header %.40q", len(in), got)
		}
	}
}
