package domain

// Turn is one turn of a session as get_history reports it, folded from the
// session's sequenced events.
type Turn struct {
	TurnID       string         `json:"turnId"`
	ClientTurnID string         `json:"clientTurnId,omitempty"`
	UserText     string         `json:"userText"`
	FinalText    string         `json:"finalText"`
	Status       string         `json:"status"` // running, complete, cancelled, error
	StopReason   string         `json:"stopReason,omitempty"`
	Usage        map[string]any `json:"usage,omitempty"`
	Error        map[string]any `json:"error,omitempty"`
	StartedAt    int64          `json:"startedAt"`
	CompletedAt  int64          `json:"completedAt,omitempty"`
	FirstSeq     uint64         `json:"firstSeq"`
	LastSeq      uint64         `json:"lastSeq"`
	ToolCalls    []string       `json:"toolCalls,omitempty"`
}

// Turn statuses.
const (
	TurnRunning   = "running"
	TurnComplete  = "complete"
	TurnCancelled = "cancelled"
	TurnError     = "error"
)

// FoldTurns groups events (in seq order) into turns. A turn opens with its
// user_message (or, for a history that starts mid-turn, its first event).
func FoldTurns(evs []Event) []Turn {
	var turns []Turn
	idx := map[string]int{}
	for i := range evs {
		ev := &evs[i]
		if ev.TurnID == "" {
			continue
		}
		k, ok := idx[ev.TurnID]
		if !ok {
			turns = append(turns, Turn{TurnID: ev.TurnID, Status: TurnRunning, StartedAt: ev.TS, FirstSeq: ev.Seq})
			k = len(turns) - 1
			idx[ev.TurnID] = k
		}
		t := &turns[k]
		t.LastSeq = ev.Seq
		switch ev.Type {
		case EvUserMessage:
			t.UserText = ev.Str("text")
			t.ClientTurnID = ev.Str("clientTurnId")
		case EvTextDelta:
			if t.Status == TurnRunning {
				t.FinalText += ev.Str("text")
			}
		case EvToolCall:
			t.ToolCalls = append(t.ToolCalls, ev.Str("toolName"))
		case EvTurnComplete:
			t.FinalText = ev.Str("finalText")
			t.StopReason = ev.Str("stopReason")
			t.Usage, _ = ev.Data["usage"].(map[string]any)
			t.CompletedAt = ev.TS
			t.Status = TurnComplete
			if t.StopReason == StopCancelled {
				t.Status = TurnCancelled
			}
		case EvTurnError:
			t.Status = TurnError
			t.CompletedAt = ev.TS
			t.Error = map[string]any{"code": ev.Data["code"], "message": ev.Data["message"]}
		}
	}
	return turns
}
