package app

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
)

// slowRegistry answers Get only when released, and counts the reads.
type slowRegistry struct {
	ports.SessionRegistry
	reads   atomic.Int64
	release chan struct{}
}

func (r *slowRegistry) Get(ctx context.Context, tenantID, sessionID string) (domain.SessionRecord, error) {
	r.reads.Add(1)
	select {
	case <-r.release:
	case <-ctx.Done():
		return domain.SessionRecord{}, ctx.Err()
	}
	return domain.SessionRecord{ID: sessionID, TenantID: tenantID, Generations: []domain.Generation{{}}}, nil
}

// Concurrent lookups of one session make one registry read; each caller
// gets its own copy of the record; a lookup after the read makes a new one;
// a caller that gives up does not cancel the read the others wait for.
func TestLookupsOfOneSessionShareARead(t *testing.T) {
	slow := &slowRegistry{release: make(chan struct{})}
	reg := coalesce(slow)
	const callers = 50
	recs := make([]domain.SessionRecord, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	leaderCtx, leave := context.WithCancel(context.Background())
	for i := 0; i < callers; i++ {
		ctx := context.Background()
		if i == 0 {
			ctx = leaderCtx
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			recs[i], errs[i] = reg.Get(ctx, "t1", "s1")
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for slow.reads.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // let the other callers join the read
	leave()
	time.Sleep(10 * time.Millisecond)
	close(slow.release)
	wg.Wait()
	if n := slow.reads.Load(); n != 1 {
		t.Fatalf("%d concurrent lookups made %d registry reads, want 1", callers, n)
	}
	for i := 1; i < callers; i++ {
		if errs[i] != nil || recs[i].ID != "s1" || len(recs[i].Generations) != 1 {
			t.Fatalf("caller %d: %+v, %v", i, recs[i], errs[i])
		}
	}
	if &recs[1].Generations[0] == &recs[2].Generations[0] {
		t.Fatal("two callers share one generations array")
	}
	if _, err := reg.Get(context.Background(), "t1", "s1"); err != nil || slow.reads.Load() != 2 {
		t.Fatalf("a later lookup: %v, %d reads (want a new read)", err, slow.reads.Load())
	}
	if _, err := reg.Get(context.Background(), "t1", "s2"); err != nil || slow.reads.Load() != 3 {
		t.Fatalf("another session: %v, %d reads", err, slow.reads.Load())
	}
}

func (r *slowRegistry) Update(_ context.Context, rec domain.SessionRecord) (domain.SessionRecord, error) {
	return rec, nil
}

// A lookup that starts after a write on this instance does not share a
// read that began before it: it reads what was written.
func TestALookupAfterAWriteMakesItsOwnRead(t *testing.T) {
	slow := &slowRegistry{release: make(chan struct{})}
	reg := coalesce(slow)
	first := make(chan error, 1)
	go func() { _, err := reg.Get(context.Background(), "t1", "s1"); first <- err }()
	deadline := time.Now().Add(5 * time.Second)
	for slow.reads.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if _, err := reg.Update(context.Background(), domain.SessionRecord{TenantID: "t1", ID: "s1"}); err != nil {
		t.Fatal(err)
	}
	second := make(chan error, 1)
	go func() { _, err := reg.Get(context.Background(), "t1", "s1"); second <- err }()
	for slow.reads.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := slow.reads.Load(); n != 2 {
		t.Fatalf("the lookup after the write joined the earlier read: %d reads", n)
	}
	close(slow.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
}
