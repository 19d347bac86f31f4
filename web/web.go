// Package web is the browser client of the gateway: a Vite + React +
// Mantine app (source in src/, built into dist/ by `npm run build`) that
// speaks the WebSocket protocol through the TypeScript client. The build
// output is committed and embedded here, so the gateway binary serves the
// client with nothing but Go; `make web-check` fails when dist/ is stale.
package web

import (
	"embed"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
)

//go:embed all:dist
var dist embed.FS

// Options are what the page's Content-Security-Policy must admit besides
// the gateway itself.
type Options struct {
	// IdentityProvider is the sign-in domain (AUTH0_DOMAIN: a bare host, or a
	// URL such as the local IdP's http://127.0.0.1:8081/). Empty in dev mode.
	IdentityProvider string
}

// ContentSecurityPolicy is the page's policy when served as host: scripts
// only from the gateway (the build has no inline script); inline styles,
// because the UI library sets CSS variables and element styles at run
// time; connections to the gateway's own API and WebSocket and to the
// identity provider's token endpoint, whose sign-in page is a navigation
// away and back, never a frame of this page.
func ContentSecurityPolicy(host string, o Options) string {
	// 'self' covers the gateway's own ws: and wss: in CSP 3; the explicit
	// entries are for browsers before it. A Host that is not a plain
	// host[:port] is left out rather than written into the header.
	connect := "'self'"
	if plainHost(host) {
		connect += " ws://" + host + " wss://" + host
	}
	if idp := originOf(o.IdentityProvider); idp != "" {
		connect += " " + idp
	}
	return "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
		"font-src 'self' data:; connect-src " + connect + "; frame-src 'none'; frame-ancestors 'none'; " +
		"base-uri 'none'; object-src 'none'; form-action 'self'"
}

func plainHost(h string) bool {
	if h == "" {
		return false
	}
	for _, c := range h {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-:[]", c)) {
			return false
		}
	}
	return true
}

// originOf is the scheme://host[:port] of a sign-in domain; a bare host is https.
func originOf(domain string) string {
	domain = strings.TrimSpace(domain)
	if domain == "" {
		return ""
	}
	if !strings.Contains(domain, "://") {
		domain = "https://" + domain
	}
	u, err := url.Parse(domain)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || !plainHost(u.Host) {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// Handler serves the built app: hashed assets with a year of caching (a new
// build has new names), everything else as index.html, revalidated on
// every load so a new build is picked up at once.
func Handler(o Options) http.Handler {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	files := http.FileServer(http.FS(sub))
	index, err := fs.ReadFile(sub, "index.html")
	if err != nil {
		panic("web: dist/index.html is missing; run make web-build")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy(r.Host, o))
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if strings.HasPrefix(name, "assets/") {
			if _, err := fs.Stat(sub, name); err != nil {
				http.NotFound(w, r)
				return
			}
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
			files.ServeHTTP(w, r)
			return
		}
		if name != "" && name != "index.html" {
			if st, err := fs.Stat(sub, name); err == nil && !st.IsDir() {
				h.Set("Cache-Control", "no-cache")
				files.ServeHTTP(w, r)
				return
			}
		}
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Type", "text/html; charset=utf-8")
		w.Write(index)
	})
}
