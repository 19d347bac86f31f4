// Package tokens signs the load tools' RS256 tokens in parallel with the
// local IdP, before any timing starts.
package tokens

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/diminuendo/diminuendo/adapters/auth/idp"
)

// Mint signs n tokens, the i-th with claims(i), on every CPU.
func Mint(ctx context.Context, p *idp.IdP, n int, claims func(i int) idp.Claims) ([]string, error) {
	out := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, runtime.NumCPU())
	for w := 0; w < runtime.NumCPU(); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				t, err := p.Mint(claims(i))
				if err != nil {
					errs <- err
					return
				}
				out[i] = t
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		return nil, err
	default:
	}
	return out, ctx.Err()
}
