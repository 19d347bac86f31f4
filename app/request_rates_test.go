package app

import (
	"testing"
	"time"

	"github.com/diminuendo/diminuendo/domain"
)

func TestRequestRatesPerIdentity(t *testing.T) {
	r := NewRequestRates(3, 10*time.Second)
	now := time.Unix(1_800_000_000, 0)
	a := domain.Identity{TenantID: "t", UserID: "a"}
	b := domain.Identity{TenantID: "t", UserID: "b"}
	for i := 0; i < 3; i++ {
		if err := r.Allow(a, now); err != nil {
			t.Fatal(err)
		}
	}
	err := r.Allow(a, now.Add(time.Second))
	if domain.KindOf(err) != domain.KindRateLimited || domain.As(err).RetryAfter != 9*time.Second {
		t.Fatalf("fourth in the window: %v", err)
	}
	if err := r.Allow(b, now); err != nil {
		t.Fatalf("another identity has its own window: %v", err)
	}
	if err := r.Allow(a, now.Add(10*time.Second)); err != nil {
		t.Fatalf("after the window: %v", err)
	}
	if err := NewRequestRates(0, time.Second).Allow(a, now); err != nil {
		t.Fatal(err)
	}
}
