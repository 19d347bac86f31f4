// Package fake holds in-memory implementations of the ports, for unit tests
// of the app layer: no network, no sleeps, same behaviour as the real
// adapters against their simulators.
package fake

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"

	"github.com/diminuendo/diminuendo/adapters/podium/podiumsim"
	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
)

var _ ports.AgentRuntime = (*AgentRuntime)(nil)

// AgentRuntime is ports.AgentRuntime over podiumsim's engine, the same
// engine the Podium simulator serves, so the app sees identical agents,
// histories and errors with or without the wire in between.
type AgentRuntime struct {
	eng *podiumsim.Engine
	log *slog.Logger
}

// NewAgentRuntime returns a runtime over a fresh engine. Call Close when done.
func NewAgentRuntime(opts podiumsim.EngineOptions) *AgentRuntime {
	return &AgentRuntime{eng: podiumsim.NewEngine(opts), log: slog.Default().With("upstream", "podium-fake")}
}

// Engine exposes the engine, for tests that seed files or read secrets.
func (r *AgentRuntime) Engine() *podiumsim.Engine { return r.eng }

// Close ends every turn and stream.
func (r *AgentRuntime) Close() { r.eng.Close() }

func (r *AgentRuntime) CreateInstance(_ context.Context, spec ports.InstanceSpec) (ports.InstanceInfo, error) {
	info, err := r.eng.CreateInstance(podiumsim.CreateRequest{
		AgentType: spec.AgentType, TenantID: spec.TenantID, SessionID: spec.SessionID, Secrets: spec.Secrets,
	})
	if err != nil {
		return ports.InstanceInfo{}, toDomain(err)
	}
	return instanceInfo(info), nil
}

func (r *AgentRuntime) GetInstance(_ context.Context, instanceID string) (ports.InstanceInfo, error) {
	info, err := r.eng.Instance(instanceID)
	if err != nil {
		return ports.InstanceInfo{}, toDomain(err)
	}
	return instanceInfo(info), nil
}

func (r *AgentRuntime) StopInstance(_ context.Context, instanceID string) error {
	if err := r.eng.StopInstance(instanceID); err != nil && !errors.Is(err, podiumsim.ErrNotFound) {
		return toDomain(err)
	}
	return nil
}

func (r *AgentRuntime) History(_ context.Context, instanceID string, after uint64, limit int) ([]domain.UpstreamEvent, uint64, error) {
	frames, latest, err := r.eng.Events(instanceID, after, limit)
	if err != nil {
		return nil, 0, toDomain(err)
	}
	events := make([]domain.UpstreamEvent, len(frames))
	for i, f := range frames {
		events[i] = upstreamEvent(f)
	}
	return events, latest, nil
}

func (r *AgentRuntime) Connect(_ context.Context, instanceID string, after uint64) (ports.AgentStream, error) {
	if _, err := r.eng.Instance(instanceID); err != nil {
		return nil, toDomain(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &stream{r: r, id: instanceID, after: after, ctx: ctx, cancel: cancel, done: make(chan struct{})}, nil
}

type stream struct {
	r      *AgentRuntime
	id     string
	after  uint64
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returns
	mu     sync.Mutex
	runs   bool // Run has started
	once   sync.Once
}

func (s *stream) Run(handle func(domain.UpstreamEvent) bool) error {
	s.mu.Lock()
	if s.runs {
		s.mu.Unlock()
		return errors.New("stream is already read")
	}
	s.runs = true
	s.mu.Unlock()
	defer close(s.done)
	after := s.after
	for {
		frames, stopped, err := s.r.eng.Wait(s.ctx, s.id, after)
		if err != nil {
			if s.ctx.Err() != nil {
				return nil
			}
			return domain.ErrUpstream("podium", err)
		}
		for _, f := range frames {
			if !handle(upstreamEvent(f)) {
				return nil
			}
			after = f.Seq
		}
		if stopped {
			return nil
		}
	}
}

// Send applies cmd. Like the wire, a command that cannot apply is only
// logged: its only trace is the events it did not cause.
func (s *stream) Send(_ context.Context, cmd ports.AgentCommand) error {
	select {
	case <-s.done:
		return domain.ErrUpstream("podium", errors.New("stream is closed"))
	case <-s.ctx.Done():
		return domain.ErrUpstream("podium", errors.New("stream is closed"))
	default:
	}
	c := podiumsim.Command{
		Text: cmd.Text, ClientTurnID: cmd.ClientTurnID, PromptID: cmd.PromptID,
		Approved: cmd.Approved, Answers: cmd.Answers, Dismissed: cmd.Dismissed,
	}
	switch cmd.Type {
	case ports.CmdUserMessage:
		c.Type = podiumsim.CmdProcessMessage
	case ports.CmdInterrupt:
		c.Type = podiumsim.CmdInterrupt
	case ports.CmdSteer:
		c.Type = podiumsim.CmdSteer
	case ports.CmdAnswer:
		c.Type = podiumsim.CmdAnswer
	default:
		return domain.E(domain.KindInvalidMessage, "unknown agent command")
	}
	err := s.r.eng.Command(s.id, c)
	var ce *podiumsim.CommandError
	if errors.As(err, &ce) {
		s.r.log.Warn("podium refused a command", "instance", s.id, "reason", ce.Message)
		return nil
	}
	if err != nil {
		return toDomain(err)
	}
	return nil
}

func (s *stream) Close() error {
	s.once.Do(s.cancel)
	s.mu.Lock()
	runs := s.runs
	s.mu.Unlock()
	if runs {
		<-s.done
	}
	return nil
}

// upstreamEvent passes a frame through JSON, as the wire would, and hands
// it on as the real adapter does: as its raw JSON.
func upstreamEvent(f podiumsim.Frame) domain.UpstreamEvent {
	b, _ := json.Marshal(f) // maps of JSON values only
	if up, ok := domain.ReadUpstream(b); ok {
		return up
	}
	var fields map[string]any
	_ = json.Unmarshal(b, &fields)
	return domain.UpstreamEvent{Seq: f.Seq, TS: f.TS, Fields: fields}
}

func instanceInfo(i podiumsim.InstanceInfo) ports.InstanceInfo {
	return ports.InstanceInfo{ID: i.InstanceID, AgentType: i.AgentType, Status: i.Status, LatestSeq: i.LatestSeq}
}

func toDomain(err error) error {
	switch {
	case errors.Is(err, podiumsim.ErrNotFound):
		return domain.Wrap(domain.KindNotFound, "instance not found", err)
	case errors.Is(err, podiumsim.ErrUnknownAgentType):
		return domain.Wrap(domain.KindInvalidMessage, "unknown agent type", err)
	}
	return domain.ErrUpstream("podium", err)
}

func (r *AgentRuntime) AgentTypes(context.Context) ([]domain.AgentType, error) {
	deps := r.eng.Deployments()
	out := make([]domain.AgentType, len(deps))
	for i, d := range deps {
		out[i] = domain.AgentType{ID: d.AgentType, Name: domain.AgentTypeName(d.AgentType), Description: d.Description}
	}
	return out, nil
}
