package domain

// CheckTenantHint enforces that a tenant hint, the routing key a client
// sends so the load balancer sends its tenant to one instance, names the
// caller's own tenant. The hint never authorises anything; refusing one
// that disagrees with the token keeps a client from being routed onto
// another tenant's instance and skewing its load and locality.
func CheckTenantHint(id Identity, hint string) error {
	if hint == "" || hint == id.TenantID {
		return nil
	}
	return E(KindForbidden, "the tenant hint does not match your token's tenant; send your own tenant or none")
}
