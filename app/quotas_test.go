package app

import (
	"testing"

	"github.com/diminuendo/diminuendo/domain"
)

func TestConnectionQuotas(t *testing.T) {
	q := NewConnectionQuotas(3, 2)
	a1 := domain.Identity{TenantID: "a", UserID: "u1"}
	a2 := domain.Identity{TenantID: "a", UserID: "u2"}
	b1 := domain.Identity{TenantID: "b", UserID: "u1"}
	take := func(id domain.Identity) func() {
		t.Helper()
		rel, err := q.Acquire(id)
		if err != nil {
			t.Fatalf("%+v: %v", id, err)
		}
		return rel
	}
	r1 := take(a1)
	take(a1)
	if _, err := q.Acquire(a1); domain.KindOf(err) != domain.KindCapacityExceeded || domain.As(err).RetryAfter == 0 {
		t.Fatalf("third of one user: %v", err)
	}
	take(a2)
	if _, err := q.Acquire(a2); domain.KindOf(err) != domain.KindCapacityExceeded {
		t.Fatalf("fourth of one tenant: %v", err)
	}
	take(b1) // another tenant, the same user id: its own places
	r1()
	r1() // twice is harmless
	take(a2)
	if _, err := q.Acquire(a1); domain.KindOf(err) != domain.KindCapacityExceeded {
		t.Fatalf("after one release and one take the tenant is full again: %v", err)
	}
	if off := NewConnectionQuotas(0, 0); off != nil {
		for i := 0; i < 100; i++ {
			if _, err := off.Acquire(a1); err != nil {
				t.Fatal(err)
			}
		}
	}
}
