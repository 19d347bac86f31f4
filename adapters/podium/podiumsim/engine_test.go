package podiumsim

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const wait = 5 * time.Second

func newEngine(t *testing.T, opts EngineOptions) *Engine {
	t.Helper()
	e := NewEngine(opts)
	t.Cleanup(e.Close)
	return e
}

func mustCreate(t *testing.T, e *Engine, agentType, session string) string {
	t.Helper()
	info, err := e.CreateInstance(CreateRequest{AgentType: agentType, SessionID: session})
	require.NoError(t, err)
	return info.InstanceID
}

func mustCommand(t *testing.T, e *Engine, id string, cmd Command) {
	t.Helper()
	require.NoError(t, e.Command(id, cmd))
}

// waitFor reads the instance's history from seq 1 until a frame of
// eventType appears after seq after, and returns the history up to it.
func waitFor(t *testing.T, e *Engine, id string, after uint64, eventType string) []Frame {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var seen uint64
	for {
		frames, stopped, err := e.Wait(ctx, id, seen)
		require.NoError(t, err, "waiting for %s", eventType)
		for _, f := range frames {
			seen = f.Seq
			if f.Seq > after && f.EventType == eventType {
				all, _, err := e.Events(id, 0, maxLimit)
				require.NoError(t, err)
				return all[:f.Seq]
			}
		}
		require.False(t, stopped, "instance stopped before %s", eventType)
	}
}

// quiesce waits until no agent goroutine runs, so a test can assert what a
// turn did not emit without sleeping.
func quiesce(t *testing.T, e *Engine) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		e.turns.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatal("agent goroutines still running")
	}
}

func types(frames []Frame) []string {
	out := make([]string, len(frames))
	for i, f := range frames {
		out[i] = f.EventType
	}
	return out
}

func find(t *testing.T, frames []Frame, eventType string) Frame {
	t.Helper()
	for _, f := range frames {
		if f.EventType == eventType {
			return f
		}
	}
	t.Fatalf("no %s among %v", eventType, types(frames))
	return Frame{}
}

func TestChunksSplitOnRuneBoundaries(t *testing.T) {
	for _, s := range []string{
		"", "a", "exactly sixteen!", "seventeen bytes!!",
		"ééééééééééééééééééé", "日本語のテキストを分割します", "🙂🙂🙂🙂🙂", "mixed ascii and 日本 and 🙂 too",
	} {
		parts := chunks(s, tokenBytes)
		assert.Equal(t, s, strings.Join(parts, ""))
		for _, p := range parts {
			assert.LessOrEqual(t, len(p), tokenBytes)
			assert.NotEmpty(t, p)
			assert.True(t, utf8.ValidString(p), "%q", p)
		}
	}
}

func TestAgentTypes(t *testing.T) {
	assert.Equal(t, []string{"asking-agent", "coding-agent", "echo", "guarded-agent"}, AgentTypes())
}

func TestAgentTypeFromDeploymentID(t *testing.T) {
	e := newEngine(t, EngineOptions{})
	info, err := e.CreateInstance(CreateRequest{DeploymentID: "coding-agent:1.0.0@local"})
	require.NoError(t, err)
	assert.Equal(t, "coding-agent", info.AgentType)
	assert.Equal(t, StatusRunning, info.Status)
	assert.True(t, strings.HasPrefix(info.InstanceID, "inst_"))

	info, err = e.CreateInstance(CreateRequest{AgentType: "echo"})
	require.NoError(t, err)
	assert.Equal(t, "echo:1.0.0@local", info.DeploymentID)

	_, err = e.CreateInstance(CreateRequest{DeploymentID: "nope:1.0.0@local"})
	assert.ErrorIs(t, err, ErrUnknownAgentType)
}

func TestTimestampsNeverGoBack(t *testing.T) {
	now := time.UnixMilli(1_764_000_000_000)
	clock := func() time.Time {
		now = now.Add(-time.Millisecond) // a clock stepping backwards
		return now
	}
	e := newEngine(t, EngineOptions{Now: clock})
	id := mustCreate(t, e, "echo", "s")
	mustCommand(t, e, id, Command{Type: CmdProcessMessage, Text: "a clock that steps backwards"})
	frames := waitFor(t, e, id, 0, "turn_complete")
	for i := 1; i < len(frames); i++ {
		assert.GreaterOrEqual(t, frames[i].TS, frames[i-1].TS)
		assert.Equal(t, frames[i-1].Seq+1, frames[i].Seq)
	}
}

func TestRefusedCommandsChangeNothing(t *testing.T) {
	e := newEngine(t, EngineOptions{})
	id := mustCreate(t, e, "guarded-agent", "s")
	for _, cmd := range []Command{
		{Type: CmdInterrupt},
		{Type: CmdSteer, Text: "x"},
		{Type: CmdAnswer, PromptID: "p"},
		{Type: CmdProcessMessage},
		{Type: "dance"},
	} {
		var ce *CommandError
		assert.ErrorAs(t, e.Command(id, cmd), &ce, cmd.Type)
	}
	info, _ := e.Instance(id)
	assert.Zero(t, info.LatestSeq)

	mustCommand(t, e, id, Command{Type: CmdProcessMessage, Text: "go"})
	frames := waitFor(t, e, id, 0, "tool.permission_requested")
	var ce *CommandError
	assert.ErrorAs(t, e.Command(id, Command{Type: CmdProcessMessage, Text: "again"}), &ce)
	assert.ErrorAs(t, e.Command(id, Command{Type: CmdAnswer, PromptID: "wrong"}), &ce)
	assert.ErrorAs(t, e.Command(id, Command{Type: CmdSteer}), &ce)
	info, _ = e.Instance(id)
	assert.Equal(t, uint64(len(frames)), info.LatestSeq)

	require.NoError(t, e.StopInstance(id))
	assert.ErrorAs(t, e.Command(id, Command{Type: CmdProcessMessage, Text: "stopped"}), &ce)
	assert.ErrorIs(t, e.Command("inst_missing", Command{Type: CmdInterrupt}), ErrNotFound)
}

func TestInterruptStopsQueuedSteps(t *testing.T) {
	e := newEngine(t, EngineOptions{StepDelay: time.Millisecond})
	id := mustCreate(t, e, "coding-agent", "s")
	mustCommand(t, e, id, Command{Type: CmdProcessMessage, Text: "slow work"})
	waitFor(t, e, id, 0, "thinking.progress")
	mustCommand(t, e, id, Command{Type: CmdInterrupt})
	quiesce(t, e)

	frames, _, err := e.Events(id, 0, maxLimit)
	require.NoError(t, err)
	last := frames[len(frames)-1]
	assert.Equal(t, "turn_complete", last.EventType)
	assert.Equal(t, stopCancelled, last.Content["stop_reason"])
	assert.NotContains(t, types(frames), "tool.call", "the tool step was queued behind the interrupt")
	_, err = e.ReadFile(id, notesPath)
	assert.ErrorIs(t, err, ErrNotFound, "an interrupted turn writes no file")
}

func TestInterruptKeepsTheTextSoFar(t *testing.T) {
	e := newEngine(t, EngineOptions{StepDelay: time.Millisecond})
	id := mustCreate(t, e, "echo", "s")
	mustCommand(t, e, id, Command{Type: CmdProcessMessage, Text: strings.Repeat("streamed slowly ", 20)})
	waitFor(t, e, id, 0, "text_delta")
	mustCommand(t, e, id, Command{Type: CmdInterrupt})
	quiesce(t, e)

	frames, _, _ := e.Events(id, 0, maxLimit)
	var text strings.Builder
	for _, f := range frames {
		if f.EventType == "text_delta" {
			text.WriteString(f.Content["text"].(string))
		}
	}
	last := frames[len(frames)-1]
	assert.Equal(t, stopCancelled, last.Content["stop_reason"])
	assert.Equal(t, text.String(), last.Content["final_text"])
	assert.NotEmpty(t, text.String())
}

func TestSteerIsAcknowledgedInTheAnswer(t *testing.T) {
	e := newEngine(t, EngineOptions{})
	id := mustCreate(t, e, "guarded-agent", "s")
	mustCommand(t, e, id, Command{Type: CmdProcessMessage, Text: "go"})
	frames := waitFor(t, e, id, 0, "tool.permission_requested")
	prompt := frames[len(frames)-1].Content["prompt_id"].(string)
	mustCommand(t, e, id, Command{Type: CmdSteer, Text: "use British spelling"})
	yes := true
	mustCommand(t, e, id, Command{Type: CmdAnswer, PromptID: prompt, Approved: &yes, Answers: map[string]any{"scope": "once"}})
	frames = waitFor(t, e, id, 0, "turn_complete")

	resolved := find(t, frames, "tool.approval_resolved")
	assert.Equal(t, true, resolved.Content["approved"])
	assert.Equal(t, map[string]any{"scope": "once"}, resolved.Content["answers"])
	assert.Contains(t, frames[len(frames)-1].Content["final_text"], "use British spelling")
}

func TestStopDuringATurnCancelsItAndEndsWaiters(t *testing.T) {
	e := newEngine(t, EngineOptions{StepDelay: time.Millisecond})
	id := mustCreate(t, e, "coding-agent", "s")
	mustCommand(t, e, id, Command{Type: CmdProcessMessage, Text: "work"})
	waitFor(t, e, id, 0, "thinking.start")
	require.NoError(t, e.StopInstance(id))
	quiesce(t, e)

	frames, stopped, err := e.Wait(context.Background(), id, 0)
	require.NoError(t, err)
	assert.True(t, stopped)
	assert.Equal(t, stopCancelled, frames[len(frames)-1].Content["stop_reason"])
	info, _ := e.Instance(id)
	assert.Equal(t, StatusStopped, info.Status)
	require.NoError(t, e.StopInstance(id), "stopping twice is fine")
}

func TestWaitBatchesLongHistories(t *testing.T) {
	e := newEngine(t, EngineOptions{})
	id := mustCreate(t, e, "echo", "s")
	mustCommand(t, e, id, Command{Type: CmdProcessMessage, Text: strings.Repeat("0123", waitBatch+10)})
	all := waitFor(t, e, id, 0, "turn_complete")
	require.NoError(t, e.StopInstance(id))

	first, stopped, err := e.Wait(context.Background(), id, 0)
	require.NoError(t, err)
	assert.Len(t, first, waitBatch)
	assert.False(t, stopped, "more frames follow")
	rest, stopped, err := e.Wait(context.Background(), id, first[len(first)-1].Seq)
	require.NoError(t, err)
	assert.True(t, stopped)
	assert.Equal(t, all, append(first, rest...))
}

func TestWaitEndsWithItsContext(t *testing.T) {
	e := newEngine(t, EngineOptions{})
	id := mustCreate(t, e, "echo", "s")
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, _, err := e.Wait(ctx, id, 0)
		errc <- err
	}()
	cancel()
	select {
	case err := <-errc:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(wait):
		t.Fatal("Wait ignored its context")
	}
}

func TestCloseEndsTurnsAndWaiters(t *testing.T) {
	e := NewEngine(EngineOptions{StepDelay: time.Hour})
	id := mustCreate(t, e, "coding-agent", "s")
	mustCommand(t, e, id, Command{Type: CmdProcessMessage, Text: "never finishes"})
	errc := make(chan error, 1)
	go func() {
		_, _, err := e.Wait(context.Background(), id, 2)
		errc <- err
	}()
	e.Close() // must not wait an hour for the turn
	select {
	case err := <-errc:
		assert.True(t, errors.Is(err, ErrClosed))
	case <-time.After(wait):
		t.Fatal("Close did not wake a waiter")
	}
	_, err := e.CreateInstance(CreateRequest{AgentType: "echo"})
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, e.Command(id, Command{Type: CmdInterrupt}), ErrClosed)
}
