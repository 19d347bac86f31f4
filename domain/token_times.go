package domain

import "time"

// CheckTokenTimes applies a token's time claims at now, the same on every
// transport. Clock skew between issuer and gateway may excuse a token that
// seems not yet valid (nbf) or issued in the future (iat), never one past
// its expiry: a socket is closed at exp, so REST must refuse from exp on too.
// Zero nbf or iat means the claim is absent; exp is required.
func CheckTokenTimes(now, exp, nbf, iat time.Time, skew time.Duration) error {
	if exp.IsZero() {
		return E(KindAuthFailed, "missing exp claim")
	}
	if !now.Before(exp) {
		return E(KindTokenExpired, "token expired")
	}
	if !nbf.IsZero() && now.Add(skew).Before(nbf) {
		return E(KindAuthFailed, "token not yet valid")
	}
	if !iat.IsZero() && now.Add(skew).Before(iat) {
		return E(KindAuthFailed, "token issued in the future")
	}
	return nil
}
