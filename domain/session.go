package domain

import "time"

// Generation is one Podium instance's stretch of a session's history. The
// client seq of an instance event is BaseSeq + its Podium seq, so seq keeps
// growing across generations and any gateway instance can compute it.
type Generation struct {
	InstanceID string `json:"instanceId"`
	BaseSeq    uint64 `json:"baseSeq"`
	// Closed is set once the generation's instance is gone for good; EndSeq
	// is then its last client seq, trailer included.
	Closed bool   `json:"closed,omitempty"`
	EndSeq uint64 `json:"endSeq,omitempty"`
	// Trailer holds events the gateway itself added when the generation ended
	// abnormally (the instance was lost mid-turn). They are stored with the
	// record so every replay reproduces them.
	Trailer []Event `json:"trailer,omitempty"`
}

// SessionRecord is a session as kept in the registry (Unison).
type SessionRecord struct {
	ID          string       `json:"id"`
	TenantID    string       `json:"tenantId"`
	Name        string       `json:"name"`
	AgentType   string       `json:"agentType"`
	ProjectID   string       `json:"projectId,omitempty"`
	CreatedBy   string       `json:"createdBy"`
	Archived    bool         `json:"archived"`
	CreatedAt   time.Time    `json:"createdAt"`
	UpdatedAt   time.Time    `json:"updatedAt"`
	Epoch       string       `json:"epoch"`
	Generations []Generation `json:"generations,omitempty"`
	// Version is the registry's version of the record, for compare-and-set.
	Version int64 `json:"-"`
}

// Current returns the open generation, if any.
func (r *SessionRecord) Current() (Generation, bool) {
	if n := len(r.Generations); n > 0 && !r.Generations[n-1].Closed {
		return r.Generations[n-1], true
	}
	return Generation{}, false
}

// ClosedSeq is the last seq of the closed generations: the base of the next one.
func (r *SessionRecord) ClosedSeq() uint64 {
	for i := len(r.Generations) - 1; i >= 0; i-- {
		if r.Generations[i].Closed {
			return r.Generations[i].EndSeq
		}
	}
	return 0
}

// SessionMeta is the client view of a session (docs/protocol.md SessionMeta).
type SessionMeta struct {
	ID        string       `json:"id"`
	Name      string       `json:"name"`
	AgentType string       `json:"agentType"`
	ProjectID string       `json:"projectId"`
	State     SessionState `json:"state"`
	Archived  bool         `json:"archived"`
	CreatedBy string       `json:"createdBy"`
	CreatedAt int64        `json:"createdAt"`
	UpdatedAt int64        `json:"updatedAt"`
	Epoch     string       `json:"epoch"`
	LatestSeq uint64       `json:"latestSeq"`
}

// Meta builds the client view of r given its live state and latest seq.
func (r *SessionRecord) Meta(state SessionState, latestSeq uint64) SessionMeta {
	return SessionMeta{
		ID: r.ID, Name: r.Name, AgentType: r.AgentType, ProjectID: r.ProjectID,
		State: state, Archived: r.Archived, CreatedBy: r.CreatedBy,
		CreatedAt: r.CreatedAt.UnixMilli(), UpdatedAt: r.UpdatedAt.UnixMilli(),
		Epoch: r.Epoch, LatestSeq: latestSeq,
	}
}

// Limits on client-supplied session fields.
const (
	MaxSessionNameLen = 200
	MaxTurnTextLen    = 512 * 1024
	MaxAgentTypeLen   = 64
)
