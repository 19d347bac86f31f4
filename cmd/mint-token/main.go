// Command mint-token runs the gateway against a local identity provider
// instead of Auth0. Both modes share one PEM key file, created on first use.
//
// Serve discovery and the JWKS for the key (loopback only):
//
//	mint-token -serve 127.0.0.1:8081 -key data/idp-key.pem
//
// Serving, it also signs browsers in with the Authorization Code flow and
// PKCE for one SPA client (-client-id, callbacks in -redirect-uris), showing
// a page where you pick the user, tenant and role, or approving -sub,
// -email, -tenant and -role at once with -auto-approve:
//
//	mint-token -serve 127.0.0.1:8081 -client-id diminuendo-web \
//	    -redirect-uris http://localhost:5173/,http://127.0.0.1:8080/
//
// Mint a token signed by the key, printed on stdout:
//
//	mint-token -key data/idp-key.pem -issuer http://127.0.0.1:8081/ -aud diminuendo \
//	    -sub u1 -email a@b -tenant acme -role developer -ttl 1h
//
// The gateway then runs with AUTH0_DOMAIN=http://127.0.0.1:8081/ and
// AUTH0_AUDIENCE=diminuendo (see docs/auth.md).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/diminuendo/diminuendo/adapters/auth/idp"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "mint-token:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mint-token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		keyPath = fs.String("key", "data/idp-key.pem", "PEM file of the RSA signing key; created if missing")
		serve   = fs.String("serve", "", "serve discovery and JWKS on this loopback address instead of minting")
		issuer  = fs.String("issuer", "http://127.0.0.1:8081/", "issuer (iss) of the minted token; must match the gateway's AUTH0_DOMAIN")
		aud     = fs.String("aud", idp.DefaultAudience, "audience (aud)")
		sub     = fs.String("sub", "local-user", "subject (sub), the user id")
		email   = fs.String("email", "", "email claim")
		tenant  = fs.String("tenant", "local", "tenant, written as org_id")
		role    = fs.String("role", "developer", "role: owner, admin, developer, viewer or guest")
		perms   = fs.String("permissions", "", "comma-separated Auth0 RBAC permissions to narrow the role with; empty leaves the claim out")
		ttl     = fs.Duration("ttl", time.Hour, "lifetime of the token; negative mints an expired one")

		clientID     = fs.String("client-id", "diminuendo-web", "serving: the SPA client allowed to sign in (the gateway's AUTH0_CLIENT_ID)")
		redirectURIs = fs.String("redirect-uris", "http://localhost:5173/,http://127.0.0.1:5173/,http://127.0.0.1:8080/", "serving: comma-separated callback URLs of the client")
		autoApprove  = fs.Bool("auto-approve", false, "serving: sign every browser in as -sub/-email/-tenant/-role without the sign-in page")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	key, created, err := idp.LoadOrCreateKey(*keyPath)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(stderr, "created signing key %s\n", *keyPath)
	}

	if *serve != "" {
		opts := []idp.Option{idp.WithKey(key), idp.WithAudience(*aud),
			idp.WithClient(idp.Client{ID: *clientID, RedirectURIs: splitList(*redirectURIs)})}
		if *autoApprove {
			opts = append(opts, idp.WithAutoApprove(idp.Claims{Subject: *sub, Email: *email, TenantID: *tenant, Role: *role}))
		}
		p, err := idp.New(opts...)
		if err != nil {
			return err
		}
		iss, err := p.Start(*serve)
		if err != nil {
			return err
		}
		defer p.Close()
		fmt.Fprintf(stderr, "local IdP serving %s (kid %s)\nrun the gateway with AUTH0_DOMAIN=%s AUTH0_AUDIENCE=%s AUTH0_CLIENT_ID=%s\n",
			iss, p.KeyID(), iss, *aud, *clientID)
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		<-ctx.Done()
		return nil
	}

	p, err := idp.New(idp.WithKey(key), idp.WithIssuer(*issuer), idp.WithAudience(*aud))
	if err != nil {
		return err
	}
	c := idp.Claims{Subject: *sub, Email: *email, TenantID: *tenant, Role: *role, ExpiresIn: *ttl}
	if *perms != "" {
		c.Permissions = strings.Split(*perms, ",")
	}
	tok, err := p.Mint(c)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
