package domain

import (
	"net"
	"net/url"
	"strings"
)

// Origins is the browser-origin policy of both transports: the WebSocket
// upgrade and cross-origin REST.
type Origins struct {
	allowed map[string]bool
	// loopback also admits any origin on a loopback host: dev mode, where a
	// local web client (e.g. a dev server on another port) must connect,
	// but a page from anywhere else in the developer's browser must not.
	loopback bool
}

// NewOrigins builds the policy from ALLOWED_ORIGINS; devMode adds loopback.
func NewOrigins(allowed []string, devMode bool) Origins {
	o := Origins{allowed: map[string]bool{}, loopback: devMode}
	for _, a := range allowed {
		if a = strings.TrimRight(strings.TrimSpace(a), "/"); a != "" {
			o.allowed[a] = true
		}
	}
	return o
}

// Allowed reports whether a request carrying this Origin header may go on.
// No Origin means no browser sent it, and browsers always do: such a
// request is not a cross-site one.
func (o Origins) Allowed(origin string) bool {
	if origin == "" {
		return true
	}
	if o.allowed[strings.TrimRight(origin, "/")] {
		return true
	}
	return o.loopback && isLoopbackOrigin(origin)
}

func isLoopbackOrigin(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil || (u.Path != "" && u.Path != "/") {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
