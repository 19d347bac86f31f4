package app

import (
	"context"
	"encoding/json"

	"github.com/diminuendo/diminuendo/domain"
)

// historyPage is the most events asked of Podium in one call.
const historyPage = 500

// eventsFromHistory rebuilds the session's client events with seq in
// (from, to] from Podium's history of each generation plus the stored
// trailers, exactly as they were first published.
func (h *Hub) eventsFromHistory(ctx context.Context, rec *domain.SessionRecord, from, to uint64) ([]domain.Event, error) {
	var out []domain.Event
	for _, g := range rec.Generations {
		if to <= g.BaseSeq {
			break
		}
		podiumEnd := uint64(0) // 0: unbounded (open generation)
		if g.Closed {
			if g.EndSeq <= from {
				continue
			}
			podiumEnd = g.EndSeq - uint64(len(g.Trailer)) - g.BaseSeq
		}
		after := uint64(0)
		if from > g.BaseSeq {
			after = from - g.BaseSeq
		}
		for (podiumEnd == 0 || after < podiumEnd) && g.BaseSeq+after < to {
			want := int(min(uint64(historyPage), to-(g.BaseSeq+after)))
			ups, latest, err := h.rt.History(ctx, g.InstanceID, after, want)
			if err != nil {
				return nil, err
			}
			for _, up := range ups {
				if up.Seq != after+1 {
					return nil, domain.E(domain.KindUpstreamUnavailable, "agent history has a gap")
				}
				after = up.Seq
				if podiumEnd != 0 && up.Seq > podiumEnd {
					break
				}
				out = append(out, domain.MapUpstream(rec.ID, g.BaseSeq+up.Seq, up))
			}
			if len(ups) == 0 || after >= latest {
				break
			}
		}
		for _, ev := range g.Trailer {
			if ev.Seq > from && ev.Seq <= to {
				out = append(out, ev)
			}
		}
	}
	// Trim to the range and check it is whole.
	trimmed := out[:0]
	for _, ev := range out {
		if ev.Seq > from && ev.Seq <= to {
			trimmed = append(trimmed, ev)
		}
	}
	for i, ev := range trimmed {
		if ev.Seq != from+1+uint64(i) {
			return nil, domain.E(domain.KindNotFound, "part of this session's history is no longer available")
		}
	}
	return trimmed, nil
}

// EventsPage is a page of a session's sequenced events.
type EventsPage struct {
	Epoch     string
	Events    []domain.Event
	LatestSeq uint64
	HasMore   bool
}

// MaxEventsPage is the largest get_events page.
const MaxEventsPage = 1000

// GetEvents returns up to limit events with seq > after: from the replay
// window when it covers them, else from the durable history.
func (h *Hub) GetEvents(ctx context.Context, id domain.Identity, sessionID string, after uint64, limit int) (EventsPage, error) {
	if err := id.Require(domain.PermSessionsRead); err != nil {
		return EventsPage{}, err
	}
	if limit <= 0 || limit > MaxEventsPage {
		limit = MaxEventsPage
	}
	rec, err := lookup(ctx, h.reg, id, sessionID)
	if err != nil {
		return EventsPage{}, err
	}
	latest := rec.ClosedSeq()
	if ls := h.peek(id.TenantID, sessionID); ls != nil {
		ls.mu.Lock()
		latest = ls.latest
		rec = ls.rec
		if ls.win.Len() > 0 && after+1 >= ls.win.First() {
			held, _ := ls.win.Since(after, limit)
			ls.mu.Unlock()
			evs, err := decodeEvents(held)
			if err != nil {
				return EventsPage{}, err
			}
			return EventsPage{Epoch: rec.Epoch, Events: evs, LatestSeq: latest, HasMore: len(evs) > 0 && evs[len(evs)-1].Seq < latest}, nil
		}
		ls.mu.Unlock()
	} else if g, open := rec.Current(); open {
		// Not live here: ask Podium how far the open generation has got.
		if info, err := h.rt.GetInstance(ctx, g.InstanceID); err == nil {
			latest = g.BaseSeq + info.LatestSeq
		}
	}
	if after >= latest {
		return EventsPage{Epoch: rec.Epoch, Events: []domain.Event{}, LatestSeq: latest}, nil
	}
	to := min(latest, after+uint64(limit))
	evs, err := h.eventsFromHistory(ctx, &rec, after, to)
	if err != nil {
		return EventsPage{}, err
	}
	return EventsPage{Epoch: rec.Epoch, Events: evs, LatestSeq: latest, HasMore: to < latest}, nil
}

// decodeEvents reads window entries back into events. Encoding is
// deterministic and round-trips, so they re-encode to the same bytes.
func decodeEvents(held []domain.Encoded) ([]domain.Event, error) {
	out := make([]domain.Event, len(held))
	for i, e := range held {
		if err := json.Unmarshal(e.JSON, &out[i]); err != nil {
			return nil, domain.Wrap(domain.KindInternal, "replay window corrupt", err)
		}
	}
	return out, nil
}
