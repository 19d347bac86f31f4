package ports

import (
	"context"

	"github.com/diminuendo/diminuendo/domain"
)

// InstanceSpec asks the runtime for a new agent instance.
type InstanceSpec struct {
	TenantID  string
	SessionID string
	AgentType string
	// Secrets are forwarded to the agent, sealed (see adapters/podium).
	Secrets map[string]string
}

// Instance statuses as the gateway understands them.
const (
	InstanceRunning = "running"
	InstanceStopped = "stopped"
)

// InstanceInfo describes an agent instance.
type InstanceInfo struct {
	ID        string
	AgentType string
	Status    string
	// LatestSeq is the seq of the instance's newest event (0: none yet).
	LatestSeq uint64
}

// Agent command types sent on an instance's stream.
const (
	CmdUserMessage = "user_message"
	CmdInterrupt   = "interrupt"
	CmdSteer       = "steer"
	CmdAnswer      = "answer"
)

// AgentCommand is one command to a running instance. Podium echoes user
// messages, steers and answers back as events, which is what makes the
// client event stream a function of Podium's history alone.
type AgentCommand struct {
	Type         string
	Text         string
	ClientTurnID string
	PromptID     string
	Approved     *bool
	Answers      map[string]any
	Dismissed    *bool
}

// AgentStream is a live subscription to one instance's events.
type AgentStream interface {
	// Run reads the stream on the calling goroutine and hands each event to
	// handle, in seq order, until the stream ends, handle returns false, or
	// Close is called; it returns why it stopped: nil after Close, after
	// handle returned false, or when the instance ended the stream normally.
	// Reading on the caller's goroutine is what spares a live session a
	// goroutine and a handoff per event. Run is called at most once.
	Run(handle func(domain.UpstreamEvent) bool) error
	// Send delivers a command to the instance. It may be called while Run
	// reads, from any goroutine.
	Send(ctx context.Context, cmd AgentCommand) error
	// Close ends the stream and waits for a Run in progress to return. It
	// must not be called from handle.
	Close() error
}

// AgentRuntime is Podium: agent instances, their event streams and history.
// A missing instance is reported as a domain error of KindNotFound.
type AgentRuntime interface {
	CreateInstance(ctx context.Context, spec InstanceSpec) (InstanceInfo, error)
	GetInstance(ctx context.Context, instanceID string) (InstanceInfo, error)
	// StopInstance stops and removes an instance; a missing one is success.
	StopInstance(ctx context.Context, instanceID string) error
	// History returns up to limit events with seq > after, and the newest seq.
	History(ctx context.Context, instanceID string, after uint64, limit int) ([]domain.UpstreamEvent, uint64, error)
	// Connect opens the instance's stream, resuming after seq `after`. ctx
	// bounds the dial only: the stream lives until Close or until it ends.
	Connect(ctx context.Context, instanceID string, after uint64) (AgentStream, error)
	// AgentTypes lists the agent types deployed on the runtime, ordered by id.
	AgentTypes(ctx context.Context) ([]domain.AgentType, error)
}
