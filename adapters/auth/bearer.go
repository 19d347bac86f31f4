package auth

import "strings"

// BearerToken extracts the token of an Authorization header value using the
// Bearer scheme (RFC 6750; the scheme name is case-insensitive). It reports
// false for any other scheme and for an empty token.
func BearerToken(header string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}
