package app

import "strings"

// SignIn is what a browser needs to sign in with Auth0's SPA SDK. None of
// it is secret: Auth0 shows the same values to anyone who opens its login
// page, which is why the route serving it needs no token.
type SignIn struct {
	Domain   string
	ClientID string
	Audience string
	// DevMode means the gateway authenticates every connection itself, so
	// the browser signs in with nothing.
	DevMode bool
}

// NewSignIn builds the sign-in settings from AUTH0_DOMAIN, AUTH0_CLIENT_ID
// and AUTH0_AUDIENCE. The SDK appends "/authorize" and "/" (the issuer) to
// the domain, so a trailing slash would double up and break both.
func NewSignIn(domain, clientID, audience string, devMode bool) SignIn {
	return SignIn{
		Domain:   strings.TrimRight(strings.TrimSpace(domain), "/"),
		ClientID: strings.TrimSpace(clientID),
		Audience: strings.TrimSpace(audience),
		DevMode:  devMode,
	}
}
