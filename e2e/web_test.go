package e2e

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/diminuendo/diminuendo/app/config"
	"github.com/diminuendo/diminuendo/web"
)

// The gateway serves the embedded build of the browser client at / in every
// mode: the page revalidated on each load, its hashed assets cached for a
// year, both under a CSP that admits only the app's own scripts. API paths
// keep their JSON answers. (The client itself is tested in Chromium by
// web/tests, `make web-test`.)
func TestWebClientServedFromTheBinary(t *testing.T) {
	dev := startGateway(t, nil)
	var issuer string
	prod, _ := startAuthGateway(t, func(c *config.Config) { issuer = c.Auth0Domain })
	idps := map[*gateway]string{dev: "", prod: issuer}
	for name, g := range map[string]*gateway{"dev mode": dev, "with an identity provider": prod} {
		t.Run(name, func(t *testing.T) {
			status, h, page := get(t, g.url("/"))
			if status != 200 || !strings.Contains(page, "<title>Diminuendo</title>") {
				t.Fatalf("/: %d\n%s", status, page)
			}
			csp := h.Get("Content-Security-Policy")
			if h.Get("Cache-Control") != "no-cache" || csp != web.ContentSecurityPolicy(g.addr, web.Options{IdentityProvider: idps[g]}) ||
				h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" {
				t.Fatalf("/ headers: %v", h)
			}
			if strings.Contains(page, "<script>") || !strings.Contains(csp, "script-src 'self';") {
				t.Fatalf("the page needs inline script, which the CSP refuses:\n%s", page)
			}
			// The page may reach the gateway and, outside dev mode, the
			// identity provider's token endpoint: nothing else.
			want := "connect-src 'self' ws://" + g.addr + " wss://" + g.addr
			if idps[g] != "" {
				want += " " + strings.TrimRight(idps[g], "/")
			}
			if !strings.Contains(csp, want+";") {
				t.Fatalf("CSP %q lacks %q", csp, want)
			}
			assets := regexp.MustCompile(`(?:src|href)="(/assets/[^"]+)"`).FindAllStringSubmatch(page, -1)
			if len(assets) < 2 {
				t.Fatalf("the page names %d assets, want the script and the styles:\n%s", len(assets), page)
			}
			for _, a := range assets {
				status, h, body := get(t, g.url(a[1]))
				if status != 200 || len(body) == 0 || h.Get("Cache-Control") != "public, max-age=31536000, immutable" {
					t.Fatalf("%s: %d, %d bytes, Cache-Control %q", a[1], status, len(body), h.Get("Cache-Control"))
				}
			}
			// A path of the app's own is the page; an unknown asset and an
			// unknown API path are 404s, the latter in the API's error shape.
			if status, _, body := get(t, g.url("/sessions/anything")); status != 200 || body != page {
				t.Fatalf("/sessions/anything: %d", status)
			}
			if status, _, _ := get(t, g.url("/assets/missing.js")); status != 404 {
				t.Fatalf("/assets/missing.js: %d", status)
			}
			if status, _, body := get(t, g.url("/api/nothing-here")); status != 404 || !strings.Contains(body, `"error"`) {
				t.Fatalf("/api/nothing-here: %d %s", status, body)
			}
		})
	}
	// The page is public; the API behind it is not, outside dev mode.
	if status, _, _ := get(t, prod.url("/api/sessions")); status != 401 {
		t.Fatalf("/api/sessions without a token: %d, want 401", status)
	}
}

func get(t *testing.T, url string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(body)
}
