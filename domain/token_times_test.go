package domain

import (
	"testing"
	"time"
)

func TestCheckTokenTimes(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	skew := 30 * time.Second
	var zero time.Time
	for _, c := range []struct {
		name          string
		exp, nbf, iat time.Time
		want          Kind
	}{
		{"valid", now.Add(time.Minute), zero, zero, 0},
		{"no exp", zero, zero, zero, KindAuthFailed},
		{"at exp", now, zero, zero, KindTokenExpired},
		{"one second past exp, inside the skew", now.Add(-time.Second), zero, zero, KindTokenExpired},
		{"long expired", now.Add(-time.Hour), zero, zero, KindTokenExpired},
		{"nbf inside the skew", now.Add(time.Minute), now.Add(10 * time.Second), zero, 0},
		{"nbf past the skew", now.Add(time.Hour), now.Add(time.Minute), zero, KindAuthFailed},
		{"iat inside the skew", now.Add(time.Minute), zero, now.Add(10 * time.Second), 0},
		{"iat past the skew", now.Add(time.Hour), zero, now.Add(time.Minute), KindAuthFailed},
	} {
		err := CheckTokenTimes(now, c.exp, c.nbf, c.iat, skew)
		if c.want == 0 {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if KindOf(err) != c.want {
			t.Errorf("%s: got %v, want kind %v", c.name, err, c.want)
		}
	}
}
