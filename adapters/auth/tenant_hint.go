package auth

import "net/http"

// TenantHintHeader carries the tenant hint for clients that can set headers.
const TenantHintHeader = "X-Tenant-Id"

// TenantHint is the routing hint the load balancer hashes on, read the way
// deploy/nginx.conf and the Kubernetes Ingress read it: the tenant query
// parameter first, else the X-Tenant-Id header.
func TenantHint(r *http.Request) string {
	if t := r.URL.Query().Get("tenant"); t != "" {
		return t
	}
	return r.Header.Get(TenantHintHeader)
}
