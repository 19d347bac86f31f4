package idp

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Claim names the gateway reads by default (see docs/auth.md).
const (
	TenantClaim = "org_id"                       // Auth0 Organizations
	RoleClaim   = "https://diminuendo.dev/role"  // set by an Auth0 Action
	EmailClaim  = "https://diminuendo.dev/email" // Auth0 access tokens carry no email by default
)

// Claims describes an ordinary token to mint.
type Claims struct {
	Subject  string
	Email    string
	TenantID string // written as org_id
	Role     string // written as RoleClaim
	// Permissions is written as the Auth0 RBAC "permissions" array: nil
	// leaves the claim out, an empty slice writes an empty array.
	Permissions []string
	Audience    string        // default: the IdP's audience
	ExpiresIn   time.Duration // zero: one hour; negative: already expired
	NotBefore   time.Time     // zero: no nbf claim
	// Extra is applied last and wins; a nil value deletes the claim, which
	// is how a test drops exp or sub.
	Extra map[string]any
}

// Payload is the claim set Mint would sign for c, for tests that want to
// alter it before signing with MintWith.
func (p *IdP) Payload(c Claims) map[string]any {
	now := p.now()
	ttl := c.ExpiresIn
	if ttl == 0 {
		ttl = time.Hour
	}
	aud := c.Audience
	if aud == "" {
		aud = p.audience
	}
	m := map[string]any{
		"iss": p.Issuer(),
		"aud": aud,
		"iat": now.Unix(),
		"exp": now.Add(ttl).Unix(),
	}
	set := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	set("sub", c.Subject)
	set("email", c.Email)
	set(TenantClaim, c.TenantID)
	set(RoleClaim, c.Role)
	if c.Permissions != nil {
		m["permissions"] = c.Permissions
	}
	if !c.NotBefore.IsZero() {
		m["nbf"] = c.NotBefore.Unix()
	}
	for k, v := range c.Extra {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return m
}

// Mint signs an RS256 token for c with the current key.
func (p *IdP) Mint(c Claims) (string, error) {
	return p.MintWith(nil, p.Payload(c), SignRS256)
}

// Signer picks how MintWith signs, including the ways an attacker would.
type Signer string

const (
	// SignRS256 signs with the current, published key.
	SignRS256 Signer = "RS256"
	// SignForeignRS256 signs RS256 with a key the JWKS never publishes; its
	// default kid is that key's thumbprint.
	SignForeignRS256 Signer = "foreign-RS256"
	// SignNone writes alg "none" and an empty signature.
	SignNone Signer = "none"
	// SignHS256PublicKey signs HS256 using the PEM of the published public
	// key as the HMAC secret: the classic algorithm-confusion attack.
	SignHS256PublicKey Signer = "HS256-public-key"
)

// MintWith signs payload as given. The header starts as {alg, kid, typ}
// fitting signer; entries of header override it, and nil values delete.
func (p *IdP) MintWith(header, payload map[string]any, signer Signer) (string, error) {
	p.mu.RLock()
	key, kid := p.key, p.kid
	p.mu.RUnlock()

	var alg string
	switch signer {
	case SignRS256:
		alg = "RS256"
	case SignForeignRS256:
		fk, err := p.foreignKey()
		if err != nil {
			return "", err
		}
		key, kid, alg = fk, Thumbprint(&fk.PublicKey), "RS256"
	case SignNone:
		alg = "none"
	case SignHS256PublicKey:
		alg = "HS256"
	default:
		return "", fmt.Errorf("idp: unknown signer %q", signer)
	}

	h := map[string]any{"alg": alg, "kid": kid, "typ": "JWT"}
	for k, v := range header {
		if v == nil {
			delete(h, k)
		} else {
			h[k] = v
		}
	}
	hb, err := json.Marshal(h)
	if err != nil {
		return "", fmt.Errorf("idp: header: %w", err)
	}
	pb, err := json.Marshal(payload)
	if err != nil {
		return "", fmt.Errorf("idp: payload: %w", err)
	}
	signingInput := b64.EncodeToString(hb) + "." + b64.EncodeToString(pb)

	var sig []byte
	switch signer {
	case SignRS256, SignForeignRS256:
		sum := sha256.Sum256([]byte(signingInput))
		sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
		if err != nil {
			return "", fmt.Errorf("idp: sign: %w", err)
		}
	case SignHS256PublicKey:
		der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
		if err != nil {
			return "", fmt.Errorf("idp: %w", err)
		}
		mac := hmac.New(sha256.New, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
		mac.Write([]byte(signingInput))
		sig = mac.Sum(nil)
	case SignNone:
	}
	return signingInput + "." + b64.EncodeToString(sig), nil
}

func (p *IdP) foreignKey() (*rsa.PrivateKey, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.foreign == nil {
		k, err := GenerateKey()
		if err != nil {
			return nil, err
		}
		p.foreign = k
	}
	return p.foreign, nil
}

// Tamper rewrites the payload of a signed token and keeps the original
// signature, which must then fail to verify.
func Tamper(token string, edit func(payload map[string]any)) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errors.New("idp: not a compact JWS")
	}
	raw, err := b64.DecodeString(parts[1])
	if err != nil {
		return "", fmt.Errorf("idp: payload: %w", err)
	}
	var payload map[string]any
	if err := json.Unmarshal(raw, &payload); err != nil {
		return "", fmt.Errorf("idp: payload: %w", err)
	}
	edit(payload)
	pb, err := json.Marshal(payload)
	if err != nil {
		return "", fmt.Errorf("idp: payload: %w", err)
	}
	return parts[0] + "." + b64.EncodeToString(pb) + "." + parts[2], nil
}
