package app

import (
	"context"

	"github.com/diminuendo/diminuendo/domain"
)

// MaxHistoryEvents bounds how much of a session's event stream get_history
// folds; older turns beyond it are reported through hasMore.
const MaxHistoryEvents = 50000

// History pages: default and largest number of turns.
const (
	DefaultHistoryTurns = 20
	MaxHistoryTurns     = 100
)

// HistoryPage is a page of turns, oldest first.
type HistoryPage struct {
	Turns   []domain.Turn
	HasMore bool
}

// GetHistory returns up to limit turns before beforeTurnID (or the newest),
// folded from the session's durable event stream.
func (h *Hub) GetHistory(ctx context.Context, id domain.Identity, sessionID, beforeTurnID string, limit int) (HistoryPage, error) {
	if limit <= 0 {
		limit = DefaultHistoryTurns
	}
	if limit > MaxHistoryTurns {
		return HistoryPage{}, domain.E(domain.KindInvalidMessage, "limit is at most 100 turns")
	}
	var all []domain.Event
	truncated := false
	after := uint64(0)
	page, err := h.GetEvents(ctx, id, sessionID, 0, MaxEventsPage)
	if err != nil {
		return HistoryPage{}, err
	}
	// Fold the newest MaxHistoryEvents events; when there are more, start
	// later and say so.
	if page.LatestSeq > MaxHistoryEvents {
		after, truncated = page.LatestSeq-MaxHistoryEvents, true
		if page, err = h.GetEvents(ctx, id, sessionID, after, MaxEventsPage); err != nil {
			return HistoryPage{}, err
		}
	}
	for rounds := 0; rounds <= MaxHistoryEvents/MaxEventsPage+1; rounds++ {
		all = append(all, page.Events...)
		if !page.HasMore || len(page.Events) == 0 {
			break
		}
		last := page.Events[len(page.Events)-1].Seq
		if page, err = h.GetEvents(ctx, id, sessionID, last, MaxEventsPage); err != nil {
			return HistoryPage{}, err
		}
	}
	turns := domain.FoldTurns(all)
	end := len(turns)
	if beforeTurnID != "" {
		end = -1
		for i, t := range turns {
			if t.TurnID == beforeTurnID {
				end = i
				break
			}
		}
		if end < 0 {
			return HistoryPage{}, domain.E(domain.KindNotFound, "no turn with that id")
		}
	}
	start := max(0, end-limit)
	out := make([]domain.Turn, end-start)
	copy(out, turns[start:end])
	return HistoryPage{Turns: out, HasMore: start > 0 || truncated}, nil
}
