// Package apiconv renders domain values as the models generated from
// openapi.yaml, so that the REST, SSE and WebSocket adapters send the same
// shapes from the same types.
package apiconv

import (
	"encoding/json"

	"github.com/diminuendo/diminuendo/api"
	"github.com/diminuendo/diminuendo/app"
	"github.com/diminuendo/diminuendo/domain"
)

// Meta renders a session's metadata.
func Meta(m domain.SessionMeta) api.SessionMeta {
	return api.SessionMeta{
		Id: m.ID, Name: m.Name, AgentType: m.AgentType, ProjectId: m.ProjectID, State: api.SessionState(m.State),
		Archived: m.Archived, CreatedBy: m.CreatedBy, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt,
		Epoch: m.Epoch, LatestSeq: int64(m.LatestSeq),
	}
}

// Metas renders a session list; never nil, so it encodes as [].
func Metas(ms []domain.SessionMeta) []api.SessionMeta {
	out := make([]api.SessionMeta, len(ms))
	for i, m := range ms {
		out[i] = Meta(m)
	}
	return out
}

// Identity renders the caller's identity.
func Identity(id domain.Identity) api.Identity {
	perms := make([]string, len(id.Permissions))
	for i, p := range id.Permissions {
		perms[i] = string(p)
	}
	return api.Identity{UserId: id.UserID, Email: id.Email, TenantId: id.TenantID, Role: api.Role(id.Role), Permissions: perms}
}

// Turn renders one folded turn.
func Turn(t domain.Turn) api.Turn {
	out := api.Turn{
		TurnId: t.TurnID, UserText: t.UserText, FinalText: t.FinalText, Status: api.TurnStatus(t.Status),
		StartedAt: t.StartedAt, FirstSeq: int64(t.FirstSeq), LastSeq: int64(t.LastSeq),
	}
	if t.ClientTurnID != "" {
		out.ClientTurnId = &t.ClientTurnID
	}
	if t.StopReason != "" {
		sr := api.TurnStopReason(t.StopReason)
		out.StopReason = &sr
	}
	if t.Usage != nil {
		u := Usage(t.Usage)
		out.Usage = &u
	}
	if t.Error != nil {
		code, _ := t.Error["code"].(string)
		msg, _ := t.Error["message"].(string)
		out.Error = &api.TurnFailure{Code: code, Message: msg}
	}
	if t.CompletedAt != 0 {
		out.CompletedAt = &t.CompletedAt
	}
	if len(t.ToolCalls) > 0 {
		out.ToolCalls = &t.ToolCalls
	}
	return out
}

// Turns renders a history page's turns; never nil.
func Turns(ts []domain.Turn) []api.Turn {
	out := make([]api.Turn, len(ts))
	for i, t := range ts {
		out[i] = Turn(t)
	}
	return out
}

// Usage reads the token counts of a usage object, whether its numbers were
// set by the mapper (int) or decoded from storage (float64).
func Usage(m map[string]any) api.Usage {
	var u api.Usage
	if n, ok := integer(m["inputTokens"]); ok {
		u.InputTokens = &n
	}
	if n, ok := integer(m["outputTokens"]); ok {
		u.OutputTokens = &n
	}
	return u
}

func integer(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	case float64:
		return int64(n), true
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}

// FileEntries renders a workspace listing; never nil.
func FileEntries(es []domain.FileEntry) []api.FileEntry {
	out := make([]api.FileEntry, len(es))
	for i, e := range es {
		out[i] = api.FileEntry{Path: e.Path, Name: e.Name, Type: api.FileEntryType(e.Type), Size: e.Size, Iteration: e.Iteration}
	}
	return out
}

// FileIterations renders a file's history; never nil.
func FileIterations(its []domain.FileIteration) []api.FileIteration {
	out := make([]api.FileIteration, len(its))
	for i, it := range its {
		out[i] = api.FileIteration{Iteration: it.Iteration, Timestamp: it.Timestamp, Size: it.Size, Hash: it.Hash}
	}
	return out
}

// FileContent renders a file; its path is the one the use case resolved, or
// the one asked for when it reports none.
func FileContent(sessionID, asked string, fc domain.FileContent) api.FileContent {
	path := fc.Path
	if path == "" {
		path = asked
	}
	return api.FileContent{
		SessionId: sessionID, Path: path, Content: fc.Content, Encoding: api.FileContentEncoding(fc.Encoding),
		Size: fc.Size, Hash: fc.Hash, Iteration: fc.Iteration,
	}
}

// Members renders a member list; never nil.
func Members(ms []domain.Member) []api.Member {
	out := make([]api.Member, len(ms))
	for i, m := range ms {
		out[i] = api.Member{UserId: m.UserID, Email: m.Email, Role: api.Role(m.Role), AddedAt: m.AddedAt}
	}
	return out
}

// Events renders sequenced events as SessionEvent unions holding each
// event's own encoding, so an event has the same bytes in a page, a
// snapshot and the live stream; never nil.
func Events(evs []domain.Event) ([]api.SessionEvent, error) {
	out := make([]api.SessionEvent, len(evs))
	for i, ev := range evs {
		b, err := json.Marshal(ev)
		if err != nil {
			return nil, err
		}
		if err := out[i].UnmarshalJSON(b); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Snapshot renders the answer to a join, without a requestId.
func Snapshot(sessionID string, snap app.Snapshot) (api.StateSnapshot, error) {
	pending, err := Events(snap.PendingPrompts)
	if err != nil {
		return api.StateSnapshot{}, err
	}
	return api.StateSnapshot{
		Type: api.StateSnapshotTypeStateSnapshot, SessionId: sessionID, Session: Meta(snap.Session),
		State: api.SessionState(snap.State), Epoch: snap.Epoch, LatestSeq: int64(snap.LatestSeq),
		PendingPrompts: pending, ReplayComplete: snap.ReplayComplete,
	}, nil
}

// AgentTypes renders the agent types offered; never nil, so it encodes as [].
func AgentTypes(ts []domain.AgentType) []api.AgentType {
	out := make([]api.AgentType, len(ts))
	for i, t := range ts {
		out[i] = api.AgentType{Id: t.ID, Name: t.Name, Description: t.Description}
	}
	return out
}
