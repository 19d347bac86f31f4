package app

import (
	"context"
	"errors"
	"time"

	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
)

// streamLost handles an agent stream that ended without being asked to. A
// stopped instance ends the generation quietly; an unreachable one gets
// UpstreamGrace to come back, after which the running turn is failed.
func (ls *liveSession) streamLost(ctx context.Context, cause error, gen domain.Generation) {
	h := ls.h
	deadline := time.Now().Add(h.limits.UpstreamGrace)
	delay := 50 * time.Millisecond
	for {
		// Each probe is bounded by the grace, whatever the adapter's own
		// timeouts and retries, so the turn fails on time.
		pctx, cancel := context.WithDeadline(ctx, deadline)
		info, err := h.rt.GetInstance(pctx, gen.InstanceID)
		cancel()
		if err == nil && info.Status == ports.InstanceRunning {
			ls.mu.Lock()
			after := ls.latest - gen.BaseSeq
			ls.mu.Unlock()
			if next, err := h.rt.Connect(ctx, gen.InstanceID, after); err == nil {
				ls.mu.Lock()
				if ls.gen.InstanceID != gen.InstanceID || ls.gone {
					ls.mu.Unlock()
					_ = next.Close()
					return
				}
				ls.stream = next
				ls.mu.Unlock()
				h.wg.Add(1)
				go ls.pump(ctx, next, gen)
				return
			}
		} else if err == nil && info.Status != ports.InstanceRunning {
			// Stopped elsewhere (deleted or deactivated by another gateway).
			ls.mu.Lock()
			ls.stream, ls.turnPending = nil, false
			ls.forceState(domain.StateInactive, "instance stopped")
			ls.mu.Unlock()
			return
		}
		if errors.Is(ctx.Err(), context.Canceled) || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(min(delay, time.Until(deadline))):
		}
		delay = min(delay*2, 400*time.Millisecond)
	}
	ls.failGeneration(ctx, gen, cause)
}

// failGeneration ends gen after its instance was lost. A turn in flight is
// closed with a turn_error that is stored with the session record, so every
// replay on every instance reproduces it with the same seq.
func (ls *liveSession) failGeneration(ctx context.Context, gen domain.Generation, cause error) {
	h := ls.h
	h.log.Warn("agent stream lost", "session", ls.id, "instance", gen.InstanceID, "err", cause)
	h.stats.GenerationsLost.Add(1)
	ls.mu.Lock()
	if ls.gen.InstanceID != gen.InstanceID {
		ls.mu.Unlock()
		return
	}
	inTurn := ls.turnPending || ls.state == domain.StateRunning || ls.state == domain.StateWaiting
	turnID := ls.turnID
	latest := ls.latest
	ls.stream, ls.turnPending = nil, false
	ls.mu.Unlock()

	var trailer []domain.Event
	if inTurn {
		trailer = []domain.Event{{
			Type: domain.EvTurnError, SessionID: ls.id, TurnID: turnID, Seq: latest + 1, TS: h.clock.Now().UnixMilli(),
			Data: map[string]any{"code": "UPSTREAM_UNAVAILABLE", "message": "the agent runtime became unreachable"},
		}}
	}
	closed, err := ls.closeGeneration(ctx, gen, latest+uint64(len(trailer)), trailer)
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if err == nil {
		ls.rec = closed
		if g := closed.Generations; len(g) > 0 {
			for _, ev := range g[len(g)-1].Trailer {
				if ev.Seq == ls.latest+1 {
					ls.publish(ev)
				}
			}
		}
	} else {
		h.log.Error("could not record the lost generation", "session", ls.id, "err", err)
	}
	ls.forceState(domain.StateError, "agent runtime unavailable")
}

// closeGeneration marks gen closed at endSeq with trailer in the registry.
// When another gateway instance closed it first, its record wins.
func (ls *liveSession) closeGeneration(ctx context.Context, gen domain.Generation, endSeq uint64, trailer []domain.Event) (domain.SessionRecord, error) {
	h := ls.h
	for attempt := 0; attempt < 4; attempt++ {
		rec, err := h.reg.Get(ctx, ls.tenantID, ls.id)
		if err != nil {
			return rec, err
		}
		n := len(rec.Generations)
		if n == 0 || rec.Generations[n-1].InstanceID != gen.InstanceID || rec.Generations[n-1].Closed {
			return rec, nil
		}
		rec.Generations[n-1].Closed = true
		rec.Generations[n-1].EndSeq = endSeq
		rec.Generations[n-1].Trailer = trailer
		rec.UpdatedAt = h.clock.Now()
		updated, err := h.reg.Update(ctx, rec)
		if err == nil {
			return updated, nil
		}
		if domain.KindOf(err) != domain.KindConflict {
			return rec, err
		}
	}
	return domain.SessionRecord{}, domain.E(domain.KindConflict, "session record kept changing")
}
