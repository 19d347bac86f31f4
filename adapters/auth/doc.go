// Package auth owns authentication at the gateway's edge: it verifies Auth0
// access tokens (RS256: crypto/rsa over keys fetched with go-jwt-middleware
// v2's jwks package) and derives the caller's identity, tenant, role and permissions
// from their claims; it caches verified tokens and limits failed attempts
// per client address. The rules are written down in docs/auth.md.
package auth
