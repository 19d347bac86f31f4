package domain

// MaxIDLen bounds tenant, session and member ids.
const MaxIDLen = 128

// ValidID reports whether s may name a tenant, a session or a member.
// Ids end up inside upstream URL paths and key names, so only a plain
// alphabet is allowed, and "." and ".." are refused because intermediaries
// may resolve them as path segments. Stores treat an invalid id as naming
// nothing, so a hostile id never reaches an upstream.
func ValidID(s string) bool {
	if s == "" || len(s) > MaxIDLen || s == "." || s == ".." {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}
