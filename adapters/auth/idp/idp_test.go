package idp

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io/fs"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func getJSON(t *testing.T, url string, out any) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(out))
}

func TestServesDiscoveryAndJWKS(t *testing.T) {
	p, err := New()
	require.NoError(t, err)
	iss, err := p.Start("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	require.True(t, strings.HasPrefix(iss, "http://127.0.0.1:") && strings.HasSuffix(iss, "/"), iss)
	require.Equal(t, iss, p.Issuer())

	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	getJSON(t, iss+".well-known/openid-configuration", &disc)
	require.Equal(t, iss, disc.Issuer)
	require.Equal(t, iss+".well-known/jwks.json", disc.JWKSURI)

	var set struct{ Keys []map[string]string }
	getJSON(t, disc.JWKSURI, &set)
	require.Len(t, set.Keys, 1)
	require.Equal(t, p.KeyID(), set.Keys[0]["kid"])
	require.Equal(t, "RS256", set.Keys[0]["alg"])
	require.EqualValues(t, 1, p.JWKSFetches())
	require.EqualValues(t, 1, p.DiscoveryFetches())

	old := p.KeyID()
	require.NoError(t, p.RotateKey())
	require.NotEqual(t, old, p.KeyID())
	getJSON(t, disc.JWKSURI, &set)
	require.Len(t, set.Keys, 1, "the old kid is no longer published")
	require.Equal(t, p.KeyID(), set.Keys[0]["kid"])

	_, err = p.Start("127.0.0.1:0")
	require.Error(t, err, "a second Start is refused")
	require.NoError(t, p.Close())
	require.NoError(t, p.Close())
}

func TestStartRefusesNonLoopback(t *testing.T) {
	p, err := New()
	require.NoError(t, err)
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:8081", "example.com:80", "nonsense"} {
		_, err := p.Start(addr)
		require.Error(t, err, addr)
	}
}

func TestMintSignsRS256WithTheCurrentKey(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	p, err := New(WithIssuer("https://idp.test/"), WithClock(func() time.Time { return now }))
	require.NoError(t, err)
	tok, err := p.Mint(Claims{Subject: "u1", Email: "a@b", TenantID: "acme", Role: "developer", Permissions: []string{}})
	require.NoError(t, err)

	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3)
	var header, payload map[string]any
	decode(t, parts[0], &header)
	decode(t, parts[1], &payload)
	require.Equal(t, map[string]any{"alg": "RS256", "kid": p.KeyID(), "typ": "JWT"}, header)
	require.Equal(t, map[string]any{
		"iss": "https://idp.test/", "aud": DefaultAudience, "sub": "u1", "email": "a@b",
		TenantClaim: "acme", RoleClaim: "developer", "permissions": []any{},
		"iat": float64(now.Unix()), "exp": float64(now.Add(time.Hour).Unix()),
	}, payload)

	sig, err := b64.DecodeString(parts[2])
	require.NoError(t, err)
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	require.NoError(t, rsa.VerifyPKCS1v15(p.PublicKey(), crypto.SHA256, sum[:], sig))

	forged, err := Tamper(tok, func(m map[string]any) { m[RoleClaim] = "owner" })
	require.NoError(t, err)
	fp := strings.Split(forged, ".")
	require.Equal(t, parts[2], fp[2], "Tamper keeps the signature")
	decode(t, fp[1], &payload)
	require.Equal(t, "owner", payload[RoleClaim])
}

func TestMintWithHostileSigners(t *testing.T) {
	p, err := New(WithIssuer("https://idp.test/"))
	require.NoError(t, err)
	payload := p.Payload(Claims{Subject: "u1", Extra: map[string]any{"exp": nil, "x": 1}})
	require.NotContains(t, payload, "exp")
	require.Equal(t, 1, payload["x"])

	for signer, alg := range map[Signer]string{SignNone: "none", SignHS256PublicKey: "HS256", SignForeignRS256: "RS256"} {
		tok, err := p.MintWith(map[string]any{"typ": nil}, payload, signer)
		require.NoError(t, err)
		var header map[string]any
		decode(t, strings.Split(tok, ".")[0], &header)
		require.Equal(t, alg, header["alg"], signer)
		require.NotContains(t, header, "typ")
		if signer == SignForeignRS256 {
			require.NotEqual(t, p.KeyID(), header["kid"], "the foreign key is not the published one")
		}
	}
	_, err = p.MintWith(nil, payload, Signer("bogus"))
	require.Error(t, err)
}

func decode(t *testing.T, seg string, out any) {
	t.Helper()
	raw, err := b64.DecodeString(seg)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, out))
}

// RFC 7638 §3.1 gives this key and its thumbprint.
func TestThumbprintMatchesRFC7638(t *testing.T) {
	n, err := b64.DecodeString("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw")
	require.NoError(t, err)
	key := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: 65537}
	require.Equal(t, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", Thumbprint(key))
}

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "idp-key.pem")
	key, created, err := LoadOrCreateKey(path)
	require.NoError(t, err)
	require.True(t, created)
	st, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o600), st.Mode().Perm())

	again, created, err := LoadOrCreateKey(path)
	require.NoError(t, err)
	require.False(t, created)
	require.True(t, key.Equal(again))

	require.ErrorIs(t, SaveKey(path, key), fs.ErrExist, "an existing key is never overwritten")

	// Same file, same kid: a minting process and a serving one agree.
	a, err := New(WithKey(key))
	require.NoError(t, err)
	b, err := New(WithKey(again))
	require.NoError(t, err)
	require.Equal(t, a.KeyID(), b.KeyID())

	pkcs1 := filepath.Join(t.TempDir(), "rsa.pem")
	require.NoError(t, os.WriteFile(pkcs1, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600))
	k1, err := LoadKey(pkcs1)
	require.NoError(t, err)
	require.True(t, key.Equal(k1))

	junk := filepath.Join(t.TempDir(), "junk.pem")
	require.NoError(t, os.WriteFile(junk, []byte("not a key"), 0o600))
	_, err = LoadKey(junk)
	require.Error(t, err)
	_, _, err = LoadOrCreateKey(junk)
	require.Error(t, err, "a bad file is reported, not replaced")
}
