package podiumsim

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Frame is one event of an instance as it travels on the wire. Seq counts
// from 1 per instance without gaps; the frame is stored in the instance's
// history before anyone can see it, so history and live streams agree.
type Frame struct {
	Seq       uint64         `json:"seq"`
	TS        int64          `json:"ts"`
	Type      string         `json:"type"`
	EventType string         `json:"event_type"`
	TurnID    string         `json:"turn_id,omitempty"`
	Content   map[string]any `json:"content"`
}

// FrameType is the envelope type of every sequenced frame (Podium's native
// "StreamUpdate" shape); the event itself is named by EventType.
const FrameType = "update"

// Instance statuses.
const (
	StatusRunning = "running"
	StatusStopped = "stopped"
)

// Command types a client sends on an instance's stream.
const (
	CmdProcessMessage = "process_message"
	CmdInterrupt      = "interrupt"
	CmdSteer          = "steer"
	CmdAnswer         = "answer"
)

// Errors of the engine; the server turns them into statuses.
var (
	ErrNotFound         = errors.New("podiumsim: not found")
	ErrUnknownAgentType = errors.New("podiumsim: unknown agent type")
	ErrClosed           = errors.New("podiumsim: engine closed")
)

// CommandError is a command that could not apply. It changes nothing, and on
// the wire it becomes an unsequenced command_error frame.
type CommandError struct{ Message string }

func (e *CommandError) Error() string { return e.Message }

// Command is one command to an instance.
type Command struct {
	Type         string
	Text         string
	ClientTurnID string
	PromptID     string
	Approved     *bool
	Answers      map[string]any
	Dismissed    *bool
}

// CreateRequest asks for a new instance. AgentType wins over the type named
// by DeploymentID ("<agentType>:<version>@<hash>").
type CreateRequest struct {
	DeploymentID string
	AgentType    string
	TenantID     string
	SessionID    string
	Secrets      map[string]string
}

// InstanceInfo describes an instance.
type InstanceInfo struct {
	InstanceID   string
	DeploymentID string
	AgentType    string
	TenantID     string
	SessionID    string
	Status       string
	LatestSeq    uint64
}

// EngineOptions tune an Engine.
type EngineOptions struct {
	// StepDelay is the pause between an agent's scripted events.
	StepDelay time.Duration
	// Now is the clock of event timestamps (time.Now when nil).
	Now func() time.Time
}

// Engine is the in-memory Podium: instances, their histories and the
// session workspaces. It is safe for concurrent use.
type Engine struct {
	opts EngineOptions

	mu         sync.Mutex
	closed     bool
	instances  map[string]*instance
	workspaces map[string]*workspace // by session id, so files outlive instances

	turns sync.WaitGroup // running agent turns
}

// NewEngine returns an empty engine.
func NewEngine(opts EngineOptions) *Engine {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Engine{opts: opts, instances: map[string]*instance{}, workspaces: map[string]*workspace{}}
}

// AgentTypes lists the agent types the simulator runs, sorted.
func AgentTypes() []string {
	return slices.Sorted(maps.Keys(agents))
}

// CreateInstance starts an instance of the requested agent type.
func (e *Engine) CreateInstance(req CreateRequest) (InstanceInfo, error) {
	typ := req.AgentType
	if typ == "" {
		typ, _, _ = strings.Cut(req.DeploymentID, ":")
	}
	agent, ok := agents[typ]
	if !ok {
		return InstanceInfo{}, ErrUnknownAgentType
	}
	dep := req.DeploymentID
	if dep == "" {
		dep = typ + ":1.0.0@local"
	}
	id := "inst_" + uuid.NewString()
	in := &instance{
		eng: e, id: id, deploymentID: dep, agentType: typ, tenantID: req.TenantID, sessionID: req.SessionID,
		agent: agent, secrets: maps.Clone(req.Secrets), changed: make(chan struct{}),
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return InstanceInfo{}, ErrClosed
	}
	key := req.SessionID
	if key == "" {
		key = id
	}
	if e.workspaces[key] == nil {
		e.workspaces[key] = newWorkspace()
	}
	in.ws = e.workspaces[key]
	e.instances[id] = in
	return in.info(), nil
}

// Instance describes the instance id.
func (e *Engine) Instance(id string) (InstanceInfo, error) {
	in, err := e.lookup(id)
	if err != nil {
		return InstanceInfo{}, err
	}
	return in.info(), nil
}

// StopInstance stops id. A running turn ends as cancelled first, so a
// stopped instance's history never ends mid-turn. The history stays readable.
func (e *Engine) StopInstance(id string) error {
	in, err := e.lookup(id)
	if err != nil {
		return err
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.turn != nil {
		in.turn.finishLocked(stopCancelled)
	}
	if !in.stopped {
		in.stopped = true
		in.wakeLocked()
	}
	return nil
}

// Page bounds of a history read.
const (
	defaultLimit = 100
	maxLimit     = 1000
)

// Events returns up to limit frames with seq > after (limit defaults to
// 100 and is capped at 1000) and the latest seq.
func (e *Engine) Events(id string, after uint64, limit int) ([]Frame, uint64, error) {
	in, err := e.lookup(id)
	if err != nil {
		return nil, 0, err
	}
	if limit <= 0 {
		limit = defaultLimit
	}
	limit = min(limit, maxLimit)
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.afterLocked(after, limit), uint64(len(in.history)), nil
}

// waitBatch bounds one Wait answer so a slow reader of a long history does
// not pin a copy of all of it.
const waitBatch = 256

// Wait blocks until the instance has frames with seq > after, or is
// stopped, and returns them. stopped is true only when the returned frames
// are the instance's last ones: a stream then ends. It fails with ErrClosed
// once the engine is closed, and with ctx's error when ctx ends.
func (e *Engine) Wait(ctx context.Context, id string, after uint64) (frames []Frame, stopped bool, err error) {
	in, err := e.lookup(id)
	if err != nil {
		return nil, false, err
	}
	for {
		in.mu.Lock()
		closed, done := in.closed, in.stopped
		frames = in.afterLocked(after, waitBatch)
		rest := len(frames) == 0 || frames[len(frames)-1].Seq == uint64(len(in.history))
		ch := in.changed
		in.mu.Unlock()
		if closed {
			return nil, false, ErrClosed
		}
		if len(frames) > 0 || done {
			return frames, done && rest, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}
}

// Command applies cmd to the instance. A command that cannot apply returns
// a *CommandError and changes nothing.
func (e *Engine) Command(id string, cmd Command) error {
	in, err := e.lookup(id)
	if err != nil {
		return err
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return ErrClosed
	}
	if in.stopped {
		return &CommandError{"instance is stopped"}
	}
	switch cmd.Type {
	case CmdProcessMessage:
		return in.startTurnLocked(cmd.Text, cmd.ClientTurnID)
	case CmdInterrupt:
		if in.turn == nil {
			return &CommandError{"no turn is running"}
		}
		in.turn.finishLocked(stopCancelled)
	case CmdSteer:
		if in.turn == nil {
			return &CommandError{"no turn is running"}
		}
		if cmd.Text == "" {
			return &CommandError{"steer needs text"}
		}
		in.turn.steerLocked(cmd.Text)
	case CmdAnswer:
		t := in.turn
		if t == nil || cmd.PromptID == "" || t.prompt != cmd.PromptID {
			return &CommandError{"unknown prompt"}
		}
		t.answerLocked(answer{approved: cmd.Approved, answers: cmd.Answers, dismissed: cmd.Dismissed})
	default:
		return &CommandError{"unknown command type " + cmd.Type}
	}
	return nil
}

// Secrets returns the secrets the instance was created with (opened, when
// they arrived sealed and the simulator holds the key).
func (e *Engine) Secrets(id string) (map[string]string, error) {
	in, err := e.lookup(id)
	if err != nil {
		return nil, err
	}
	return maps.Clone(in.secrets), nil
}

// Close ends every running turn silently, stops every stream with
// ErrClosed and waits until no agent goroutine is left.
func (e *Engine) Close() {
	e.mu.Lock()
	e.closed = true
	all := make([]*instance, 0, len(e.instances))
	for _, in := range e.instances {
		all = append(all, in)
	}
	e.mu.Unlock()
	for _, in := range all {
		in.mu.Lock()
		in.closed = true
		if in.turn != nil {
			in.turn.done = true
			in.turn.cancel()
			in.turn = nil
		}
		in.wakeLocked()
		in.mu.Unlock()
	}
	e.turns.Wait()
}

func (e *Engine) lookup(id string) (*instance, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	in, ok := e.instances[id]
	if !ok {
		return nil, ErrNotFound
	}
	return in, nil
}

// instance is one agent instance. mu orders everything that happens to it:
// every event is appended under mu, which is what keeps seq gapless and
// makes an interrupt final for the steps still queued behind it.
type instance struct {
	eng                                              *Engine
	id, deploymentID, agentType, tenantID, sessionID string
	agent                                            agent
	secrets                                          map[string]string
	ws                                               *workspace

	mu      sync.Mutex
	closed  bool // the engine was closed
	stopped bool
	history []Frame
	changed chan struct{} // closed and replaced on every change, to wake waiters
	lastTS  int64
	turnNo  int
	turn    *turn
}

func (in *instance) info() InstanceInfo {
	in.mu.Lock()
	defer in.mu.Unlock()
	st := StatusRunning
	if in.stopped {
		st = StatusStopped
	}
	return InstanceInfo{
		InstanceID: in.id, DeploymentID: in.deploymentID, AgentType: in.agentType,
		TenantID: in.tenantID, SessionID: in.sessionID, Status: st, LatestSeq: uint64(len(in.history)),
	}
}

func (in *instance) afterLocked(after uint64, limit int) []Frame {
	if after >= uint64(len(in.history)) || limit <= 0 {
		return nil
	}
	rest := in.history[after:]
	if len(rest) > limit {
		rest = rest[:limit]
	}
	return append([]Frame(nil), rest...)
}

func (in *instance) appendLocked(eventType, turnID string, content map[string]any) {
	ts := in.eng.opts.Now().UnixMilli()
	if ts < in.lastTS {
		ts = in.lastTS // timestamps never go back within one history
	}
	in.lastTS = ts
	if content == nil {
		content = map[string]any{}
	}
	in.history = append(in.history, Frame{
		Seq: uint64(len(in.history)) + 1, TS: ts, Type: FrameType,
		EventType: eventType, TurnID: turnID, Content: content,
	})
	in.wakeLocked()
}

func (in *instance) wakeLocked() {
	close(in.changed)
	in.changed = make(chan struct{})
}

func (in *instance) startTurnLocked(text, clientTurnID string) error {
	if in.turn != nil {
		return &CommandError{"a turn is already running"}
	}
	if text == "" {
		return &CommandError{"message needs text"}
	}
	in.turnNo++
	ctx, cancel := context.WithCancel(context.Background())
	t := &turn{in: in, id: "turn_" + itoa(in.turnNo), userText: text, ctx: ctx, cancel: cancel, answers: make(chan answer, 1)}
	um := map[string]any{"text": text}
	if clientTurnID != "" {
		um["client_turn_id"] = clientTurnID
	}
	in.appendLocked("user_message", t.id, um)
	in.appendLocked("stream_start", t.id, nil)
	in.turn = t
	in.eng.turns.Add(1)
	go func() {
		defer in.eng.turns.Done()
		defer cancel()
		in.agent(t)
	}()
	return nil
}
