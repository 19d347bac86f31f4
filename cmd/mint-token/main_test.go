package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/diminuendo/diminuendo/adapters/auth"
	"github.com/diminuendo/diminuendo/adapters/auth/idp"
	"github.com/diminuendo/diminuendo/domain"
)

// A token minted by the command verifies against an IdP serving the same key
// file, which is how a person runs the gateway locally.
func TestMintedTokenVerifiesAgainstServedKey(t *testing.T) {
	keyPath := filepath.Join(t.TempDir(), "idp-key.pem")
	key, _, err := idp.LoadOrCreateKey(keyPath)
	require.NoError(t, err)
	p, err := idp.New(idp.WithKey(key))
	require.NoError(t, err)
	iss, err := p.Start("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })

	var out, errOut bytes.Buffer
	err = run([]string{"-key", keyPath, "-issuer", iss, "-aud", "diminuendo", "-sub", "u1", "-email", "a@b",
		"-tenant", "acme", "-role", "admin", "-permissions", "sessions.read,sessions.delete"}, &out, &errOut)
	require.NoError(t, err, errOut.String())

	v, err := auth.NewVerifier(auth.Config{Domain: iss, Audience: "diminuendo"})
	require.NoError(t, err)
	id, _, err := v.Verify(context.Background(), strings.TrimSpace(out.String()))
	require.NoError(t, err)
	require.Equal(t, domain.Identity{
		UserID: "u1", Email: "a@b", TenantID: "acme", Role: domain.RoleAdmin,
		Permissions: []domain.Permission{domain.PermSessionsRead, domain.PermSessionsDelete},
	}, id)
}

func TestServeRefusesNonLoopback(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run([]string{"-key", filepath.Join(t.TempDir(), "k.pem"), "-serve", "0.0.0.0:8081"}, &out, &errOut)
	require.ErrorContains(t, err, "non-loopback")
}
