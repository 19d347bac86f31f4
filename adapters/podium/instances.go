package podium

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/diminuendo/diminuendo/adapters/upstream"
	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
)

// History page bounds of Podium's events route.
const (
	defaultPage = 100
	maxPage     = 1000
)

type createRequest struct {
	DeploymentID string         `json:"deployment_id"`
	AgentType    string         `json:"agent_type"`
	TenantID     string         `json:"tenant_id,omitempty"`
	SessionID    string         `json:"session_id,omitempty"`
	Secrets      *sealedSecrets `json:"secrets,omitempty"`
}

type instanceResponse struct {
	InstanceID   string `json:"instance_id"`
	DeploymentID string `json:"deployment_id"`
	AgentType    string `json:"agent_type"`
	Status       string `json:"status"`
	LatestSeq    uint64 `json:"latest_seq"`
}

func (r instanceResponse) info() ports.InstanceInfo {
	st := r.Status
	if st == "" {
		st = ports.InstanceRunning
	}
	return ports.InstanceInfo{ID: r.InstanceID, AgentType: r.AgentType, Status: st, LatestSeq: r.LatestSeq}
}

// CreateInstance starts an instance of spec.AgentType. It is never retried:
// a create that timed out may still have started an instance.
func (a *Adapter) CreateInstance(ctx context.Context, spec ports.InstanceSpec) (ports.InstanceInfo, error) {
	sealed, err := seal(a.cfg.SecretsKey, spec.Secrets)
	if err != nil {
		return ports.InstanceInfo{}, err
	}
	body := createRequest{
		// Podium names deployments "<type>:<version>@<hash>"; the gateway
		// runs the locally registered build of each agent type.
		DeploymentID: spec.AgentType + ":1.0.0@local",
		AgentType:    spec.AgentType,
		TenantID:     spec.TenantID,
		SessionID:    spec.SessionID,
		Secrets:      sealed,
	}
	create := upstream.Request{Method: http.MethodPost, Path: []string{"api", "v1", "instances"}, Body: body}
	out, err := upstream.CallJSON[instanceResponse](ctx, a.up, false, create)
	if err != nil {
		a.log.Warn("podium create instance failed", "agent_type", spec.AgentType, "session", spec.SessionID, "error", err.Error())
		return ports.InstanceInfo{}, a.toDomain(err)
	}
	if out.InstanceID == "" {
		return ports.InstanceInfo{}, domain.ErrUpstream("podium", errors.New("create answered without instance_id"))
	}
	if out.AgentType == "" {
		out.AgentType = spec.AgentType
	}
	return out.info(), nil
}

// GetInstance describes an instance; a missing one is KindNotFound.
func (a *Adapter) GetInstance(ctx context.Context, instanceID string) (ports.InstanceInfo, error) {
	out, err := get[instanceResponse](ctx, a, nil, instancePath(instanceID)...)
	if err != nil {
		return ports.InstanceInfo{}, a.toDomain(err)
	}
	if out.InstanceID == "" {
		out.InstanceID = instanceID
	}
	return out.info(), nil
}

// StopInstance stops an instance. A 404 is success: Podium may have
// reclaimed it already, and the goal, no running instance, is met.
func (a *Adapter) StopInstance(ctx context.Context, instanceID string) error {
	stop := upstream.Request{Method: http.MethodDelete, Path: instancePath(instanceID)}
	_, err := upstream.Call(ctx, a.up, true, func(ctx context.Context) (any, error) {
		return nil, a.up.SendJSON(ctx, stop, nil)
	})
	if upstream.IsStatus(err, http.StatusNotFound) {
		return nil
	}
	return a.toDomain(err)
}

// History returns up to limit events with seq > after, in seq order, and
// the instance's latest seq. Frames that are not events are skipped.
func (a *Adapter) History(ctx context.Context, instanceID string, after uint64, limit int) ([]domain.UpstreamEvent, uint64, error) {
	if limit <= 0 {
		limit = defaultPage
	}
	limit = min(limit, maxPage)
	q := url.Values{"after": {strconv.FormatUint(after, 10)}, "limit": {strconv.Itoa(limit)}}
	type page struct {
		Events    []json.RawMessage `json:"events"`
		LatestSeq uint64            `json:"latest_seq"`
	}
	out, err := get[page](ctx, a, q, instancePath(instanceID, "events")...)
	if err != nil {
		return nil, 0, a.toDomain(err)
	}
	events := make([]domain.UpstreamEvent, 0, len(out.Events))
	last := after
	for _, raw := range out.Events {
		ev, ok := a.event(instanceID, raw)
		if !ok {
			continue
		}
		if ev.Seq <= last {
			a.log.Warn("skipping a podium history event out of order", "instance", instanceID, "seq", ev.Seq, "after", last)
			continue
		}
		last = ev.Seq
		events = append(events, ev)
	}
	return events, out.LatestSeq, nil
}
