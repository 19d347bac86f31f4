// Package web is the browser client of the gateway: one static page that
// speaks the WebSocket protocol (docs/protocol.md) — sessions, turns with
// streamed text, thinking, tools and terminal output, permission prompts,
// and lossless resume after a dropped connection. The gateway serves it in
// dev mode; production deployments serve it from their own origin.
package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed index.html app.js
var files embed.FS

// Handler serves the page and its script.
func Handler() http.Handler {
	sub, _ := fs.Sub(files, ".")
	return http.FileServer(http.FS(sub))
}
