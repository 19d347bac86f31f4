package app

import (
	"context"

	"github.com/diminuendo/diminuendo/domain"
)

// deactivate stops an idle session's instance and closes its generation.
func (ls *liveSession) deactivate(ctx context.Context, reason string) error {
	ls.mu.Lock()
	if len(ls.subs) > 0 || ls.activating != nil || ls.turnPending ||
		ls.state == domain.StateRunning || ls.state == domain.StateWaiting || ls.state == domain.StateDeactivating {
		ls.mu.Unlock()
		return nil
	}
	if ls.stream == nil {
		// Never activated, or its runtime was lost: nothing to stop, but the
		// shell must not hold a place among the active sessions for good.
		ls.gone = true
		ls.mu.Unlock()
		ls.h.forget(ls)
		return nil
	}
	gen, latest, stop := ls.gen, ls.latest, ls.stopStream
	ls.stream, ls.stopStream = nil, nil
	_ = ls.setState(domain.StateDeactivating, reason)
	ls.mu.Unlock()
	if stop != nil {
		stop()
	}
	err := ls.h.rt.StopInstance(ctx, gen.InstanceID)
	if err == nil {
		_, err = ls.closeGeneration(ctx, gen, latest, nil)
	}
	ls.mu.Lock()
	ls.forceState(domain.StateInactive, reason)
	ls.gone = true
	ls.mu.Unlock()
	ls.h.forget(ls)
	return err
}
