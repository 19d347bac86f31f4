package idp

import (
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"math/big"
)

var b64 = base64.RawURLEncoding

// publicJWK is the JWKS entry for key, in the shape Auth0 publishes.
func publicJWK(key *rsa.PublicKey, kid string) map[string]string {
	return map[string]string{
		"kty": "RSA",
		"use": "sig",
		"alg": "RS256",
		"kid": kid,
		"n":   b64.EncodeToString(key.N.Bytes()),
		"e":   b64.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
	}
}

// Thumbprint is the RFC 7638 JWK thumbprint of key (SHA-256, base64url).
func Thumbprint(key *rsa.PublicKey) string {
	// RFC 7638 fixes the members and their order, so the JSON is written by hand.
	canonical := `{"e":"` + b64.EncodeToString(big.NewInt(int64(key.E)).Bytes()) +
		`","kty":"RSA","n":"` + b64.EncodeToString(key.N.Bytes()) + `"}`
	sum := sha256.Sum256([]byte(canonical))
	return b64.EncodeToString(sum[:])
}
