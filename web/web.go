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
	"path"
	"strings"
)

//go:embed all:dist
var dist embed.FS

// ContentSecurityPolicy allows the app's own scripts only (the build has no
// inline script). Styles may be inline: the UI library sets CSS variables
// and element styles at run time. connect-src admits the gateway's own
// WebSocket and the identity provider's token endpoint.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self' data:; connect-src 'self' ws: wss: http: https:; " +
	"frame-src 'self' https: http:; frame-ancestors 'none'; base-uri 'none'; object-src 'none'; form-action 'self'"

// Handler serves the built app: hashed assets with a year of caching (a new
// build has new names), everything else as index.html, revalidated on
// every load so a new build is picked up at once.
func Handler() http.Handler {
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
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
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
