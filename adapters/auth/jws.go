package auth

import (
	"crypto"
	"crypto/rsa"
	"encoding/base64"
	"strings"
)

// rs256 is the one signing algorithm accepted.
const rs256 = "RS256"

// compactJWS is a token in JWS compact serialization, split once:
// header.payload.signature, each base64url without padding.
type compactJWS struct {
	signed    string // header.payload, what the signature covers
	payload   string // still base64url
	signature string // still base64url
	kid       string
}

var b64 = base64.RawURLEncoding

// parseCompact splits token and reads its JOSE header, refusing anything but
// RS256 with a key id before the JWKS is touched. The header's other
// parameters are ignored (keys come only from the issuer's JWKS, never from
// jwk, jku or x5u), except crit: no extension is understood, so a token
// that says one must be is refused.
func parseCompact(token string) (compactJWS, error) {
	h, rest, ok := strings.Cut(token, ".")
	if !ok {
		return compactJWS{}, authFailed("malformed token")
	}
	p, sig, ok := strings.Cut(rest, ".")
	if !ok || strings.IndexByte(sig, '.') >= 0 {
		return compactJWS{}, authFailed("malformed token")
	}
	header, err := b64.DecodeString(h)
	if err != nil {
		return compactJWS{}, authFailed("malformed token")
	}
	var kid string
	var rs256OK, badField, crit bool
	err = eachMember(header, func(key string, raw []byte) {
		var ok bool
		switch key {
		case "alg":
			rs256OK = stringIs(raw, rs256)
		case "kid":
			if !isNull(raw) {
				kid, ok = decodeString(raw)
				badField = badField || !ok
			}
		case "crit":
			crit = true
		}
	})
	switch {
	case err != nil, badField:
		return compactJWS{}, authFailed("malformed token")
	case !rs256OK:
		return compactJWS{}, authFailed("unsupported signing algorithm")
	case crit:
		return compactJWS{}, authFailed("unsupported critical header")
	case kid == "":
		return compactJWS{}, authFailed("missing key id")
	}
	return compactJWS{signed: token[:len(h)+1+len(p)], payload: p, signature: sig, kid: kid}, nil
}

// verify checks the RS256 signature with pub and returns the decoded payload.
func (t compactJWS) verify(pub *rsa.PublicKey) ([]byte, error) {
	sig, err := b64.DecodeString(t.signature)
	if err != nil {
		return nil, authFailed("malformed token")
	}
	digest := sum256(t.signed)
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
		return nil, authFailed("invalid signature")
	}
	payload, err := b64.DecodeString(t.payload)
	if err != nil {
		return nil, authFailed("malformed token")
	}
	return payload, nil
}
