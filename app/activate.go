package app

import (
	"context"
	"encoding/json"
	"time"

	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
)

// ensureActive makes sure the session holds a live agent stream, starting or
// resuming its Podium instance. Concurrent callers share one activation.
func (ls *liveSession) ensureActive(ctx context.Context) error {
	for {
		ls.mu.Lock()
		if ls.gone {
			ls.mu.Unlock()
			return domain.ErrSessionNotFound()
		}
		if ls.stream != nil {
			ls.mu.Unlock()
			return nil
		}
		if ch := ls.activating; ch != nil {
			ls.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return domain.Wrap(domain.KindUpstreamUnavailable, "session activation timed out", ctx.Err())
			}
		}
		ch := make(chan struct{})
		ls.activating = ch
		if err := ls.setState(domain.StateActivating, ""); err != nil {
			ls.forceState(domain.StateActivating, "")
		}
		ls.mu.Unlock()

		err := ls.activate(ctx)
		ls.h.stats.Activations.Add(1)
		if err != nil {
			ls.h.stats.ActivationsFailed.Add(1)
		}

		ls.mu.Lock()
		ls.activating = nil
		close(ch)
		if err != nil {
			ls.forceState(domain.StateError, "activation failed")
		}
		ls.mu.Unlock()
		return err
	}
}

// activate finds the session's running instance or starts a new generation.
func (ls *liveSession) activate(ctx context.Context) error {
	h := ls.h
	rec, err := h.reg.Get(ctx, ls.tenantID, ls.id)
	if err != nil {
		return err
	}
	for attempt := 0; attempt < 4; attempt++ {
		if gen, open := rec.Current(); open {
			info, err := h.rt.GetInstance(ctx, gen.InstanceID)
			switch {
			case err == nil && info.Status == ports.InstanceRunning:
				return ls.attach(ctx, rec, gen, info.LatestSeq)
			case err == nil:
				// Stopped: its history is intact, so the generation ends at
				// its last event and the stream stays one epoch.
				rec.Generations[len(rec.Generations)-1].Closed = true
				rec.Generations[len(rec.Generations)-1].EndSeq = gen.BaseSeq + info.LatestSeq
			case domain.KindOf(err) == domain.KindNotFound:
				// The instance and its history are lost: what follows is a new
				// event stream, so clients holding the old epoch rebuild.
				ls.mu.Lock()
				end := max(ls.latest, gen.BaseSeq)
				ls.mu.Unlock()
				rec.Generations[len(rec.Generations)-1].Closed = true
				rec.Generations[len(rec.Generations)-1].EndSeq = end
				rec.Epoch = newEpoch()
			default:
				return err
			}
		} else if n := len(rec.Generations); n > 0 {
			// The last generation may have been closed while Podium was
			// unreachable. If its instance is gone now, its history went with
			// it: what follows is a new event stream.
			_, err := h.rt.GetInstance(ctx, rec.Generations[n-1].InstanceID)
			switch {
			case domain.KindOf(err) == domain.KindNotFound:
				rec.Epoch = newEpoch()
			case err != nil:
				return err
			}
		}
		info, err := h.rt.CreateInstance(ctx, ports.InstanceSpec{TenantID: ls.tenantID, SessionID: ls.id, AgentType: rec.AgentType, Secrets: h.agentSecrets()})
		if err != nil {
			return err
		}
		gen := domain.Generation{InstanceID: info.ID, BaseSeq: rec.ClosedSeq()}
		rec.Generations = append(rec.Generations, gen)
		rec.UpdatedAt = h.clock.Now()
		updated, err := h.reg.Update(ctx, rec)
		if err == nil {
			return ls.attach(ctx, updated, gen, 0)
		}
		// Another gateway instance won the race (or the write failed): ours
		// must not run unseen.
		h.stopQuietly(info.ID)
		if domain.KindOf(err) != domain.KindConflict {
			return err
		}
		if rec, err = h.reg.Get(ctx, ls.tenantID, ls.id); err != nil {
			return err
		}
	}
	return domain.E(domain.KindUpstreamUnavailable, "session activation kept conflicting; retry")
}

func (h *Hub) stopQuietly(instanceID string) {
	ctx, cancel := context.WithTimeout(h.ctx, 5*time.Second)
	defer cancel()
	if err := h.rt.StopInstance(ctx, instanceID); err != nil {
		h.log.Warn("stopping instance failed", "instance", instanceID, "err", err)
	}
}

// attach connects to gen's stream. When this instance already followed gen
// it resumes where it stopped; otherwise it rebuilds the window and the
// derived state from the newest part of the history.
func (ls *liveSession) attach(ctx context.Context, rec domain.SessionRecord, gen domain.Generation, podiumLatest uint64) error {
	ls.catchUp(ctx, &rec, gen)
	ls.mu.Lock()
	if ls.rec.Epoch != rec.Epoch && len(ls.subs) > 0 {
		// Attached clients learn the new epoch now rather than at their
		// next resume, which the old one could no longer serve.
		b, _ := json.Marshal(map[string]any{"type": "session_updated", "session": rec.Meta(ls.state, ls.latest)})
		ls.deliver(Frame{Type: "session_updated", Data: b})
	}
	var after uint64
	if ls.gen.InstanceID == gen.InstanceID && ls.latest >= gen.BaseSeq {
		after = ls.latest - gen.BaseSeq
	} else {
		if w := uint64(ls.h.limits.WindowEvents); podiumLatest > w {
			after = podiumLatest - w
		}
		ls.win.Reset()
		ls.latest = gen.BaseSeq + after
		ls.pending = nil
		ls.turnID = ""
	}
	ls.rec = rec
	ls.mu.Unlock()

	sctx, cancel := context.WithCancel(ls.h.ctx)
	stream, err := ls.h.rt.Connect(sctx, gen.InstanceID, after)
	if err != nil {
		cancel()
		return err
	}
	ls.mu.Lock()
	if ls.gone {
		ls.mu.Unlock()
		cancel()
		_ = stream.Close()
		return domain.ErrSessionNotFound()
	}
	ls.gen, ls.stream, ls.stopStream = gen, stream, cancel
	if ls.state == domain.StateActivating || ls.state == domain.StateError || ls.state == domain.StateInactive {
		ls.forceState(domain.StateReady, "")
	}
	ls.mu.Unlock()
	ls.h.wg.Add(1)
	go ls.pump(sctx, stream, gen)
	return nil
}

// catchUp publishes, to the clients already attached here, the events of
// closed generations this instance did not see (another gateway instance
// closed them, with a trailer), so they move to gen without a gap.
func (ls *liveSession) catchUp(ctx context.Context, rec *domain.SessionRecord, gen domain.Generation) {
	ls.mu.Lock()
	from, attached := ls.latest, len(ls.subs) > 0
	ls.mu.Unlock()
	if !attached || from >= gen.BaseSeq {
		return
	}
	evs, err := ls.h.eventsFromHistory(ctx, rec, from, gen.BaseSeq)
	if err != nil {
		ls.h.log.Warn("could not catch attached clients up to the new generation", "session", ls.id, "err", err)
		return
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	for _, ev := range evs {
		if ev.Seq == ls.latest+1 {
			ls.publish(ev)
		}
	}
}

// pump applies the stream's events until it ends, reading it on this
// goroutine.
func (ls *liveSession) pump(ctx context.Context, stream ports.AgentStream, gen domain.Generation) {
	defer ls.h.wg.Done()
	// The stream outlives Connect's context; closing it is what ends Run.
	release := context.AfterFunc(ctx, func() { _ = stream.Close() })
	cause := stream.Run(func(up domain.UpstreamEvent) bool { return ls.apply(gen, up) })
	release()
	_ = stream.Close()
	if ctx.Err() != nil {
		return // deactivated, deleted or shutting down
	}
	ls.streamLost(ctx, cause, gen)
}

// apply sequences one upstream event. It reports false when the stream can
// no longer be trusted (a gap) and must be reconnected.
func (ls *liveSession) apply(gen domain.Generation, up domain.UpstreamEvent) bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.gen.InstanceID != gen.InstanceID || ls.gone {
		return false
	}
	seq := gen.BaseSeq + up.Seq
	if seq <= ls.latest {
		return true // already seen (a resumed stream overlaps)
	}
	if seq != ls.latest+1 {
		ls.h.log.Warn("gap in agent stream; reconnecting", "session", ls.id, "want", ls.latest+1, "got", seq)
		return false
	}
	ev, b, err := ls.enc.Encode(seq, up)
	if err != nil {
		ls.publish(ev)
		return true
	}
	ls.publishEncoded(&ev, Frame{Seq: ev.Seq, Type: ev.Type, Data: b})
	return true
}
