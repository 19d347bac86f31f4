package probe

import (
	"context"
	"fmt"
	"net"
	"net/url"
)

// Dial returns a stopped Prober that checks a dependency by opening a TCP
// connection to rawURL's host: for a service whose HTTP API the gateway
// does not call, reachability is what it can honestly report.
func Dial(name, rawURL string, cfg Config) (*Prober, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%s: %q is not a URL", name, rawURL)
	}
	host := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	var d net.Dialer
	return New(name, func(ctx context.Context) error {
		c, err := d.DialContext(ctx, "tcp", host)
		if err != nil {
			return err
		}
		return c.Close()
	}, cfg), nil
}
