// Package contract holds behaviour suites of the ports: one suite per port,
// run against every adapter of it (the in-memory fake, and the real adapter
// against its simulator), so they cannot drift apart.
package contract

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/diminuendo/diminuendo/domain"
	"github.com/diminuendo/diminuendo/ports"
)

// wait bounds every wait for an event; generous, since nothing here sleeps.
const wait = 5 * time.Second

// AgentRuntime runs the behaviour suite of ports.AgentRuntime. newRuntime
// returns a fresh runtime serving the simulated agents (echo, coding-agent,
// guarded-agent, asking-agent) and registers its own cleanup on t.
func AgentRuntime(t *testing.T, newRuntime func(t *testing.T) ports.AgentRuntime) {
	t.Run("create and get", func(t *testing.T) {
		rt := newRuntime(t)
		ctx := context.Background()
		info, err := rt.CreateInstance(ctx, spec("echo"))
		require.NoError(t, err)
		assert.NotEmpty(t, info.ID)
		assert.Equal(t, "echo", info.AgentType)
		assert.Equal(t, ports.InstanceRunning, info.Status)

		got, err := rt.GetInstance(ctx, info.ID)
		require.NoError(t, err)
		assert.Equal(t, info.ID, got.ID)
		assert.Equal(t, "echo", got.AgentType)
		assert.Equal(t, ports.InstanceRunning, got.Status)
		assert.Zero(t, got.LatestSeq)
	})

	t.Run("unknown agent type is an invalid message", func(t *testing.T) {
		rt := newRuntime(t)
		_, err := rt.CreateInstance(context.Background(), spec("no-such-agent"))
		require.Error(t, err)
		assert.Equal(t, domain.KindInvalidMessage, domain.KindOf(err))
		assert.Contains(t, domain.As(err).Message, "unknown agent type")
	})

	t.Run("agent types list every deployed type once, ordered, and each can run", func(t *testing.T) {
		rt := newRuntime(t)
		types, err := rt.AgentTypes(context.Background())
		require.NoError(t, err)
		var ids []string
		for _, at := range types {
			ids = append(ids, at.ID)
			assert.NotEmpty(t, at.Name, at.ID)
			assert.NotEmpty(t, at.Description, at.ID)
			create(t, rt, at.ID)
		}
		assert.Equal(t, []string{"asking-agent", "coding-agent", "echo", "guarded-agent"}, ids)
	})

	t.Run("unknown instance is not found", func(t *testing.T) {
		rt := newRuntime(t)
		ctx := context.Background()
		_, err := rt.GetInstance(ctx, "inst_missing")
		assert.Equal(t, domain.KindNotFound, domain.KindOf(err))
		_, _, err = rt.History(ctx, "inst_missing", 0, 10)
		assert.Equal(t, domain.KindNotFound, domain.KindOf(err))
		_, err = rt.Connect(ctx, "inst_missing", 0)
		assert.Equal(t, domain.KindNotFound, domain.KindOf(err))
	})

	t.Run("stop keeps the history readable and is idempotent", func(t *testing.T) {
		rt := newRuntime(t)
		ctx := context.Background()
		id := create(t, rt, "echo")
		s := connect(t, rt, id, 0)
		send(t, s, userMessage("hello", ""))
		turn := untilTurnComplete(t, s)
		require.NoError(t, rt.StopInstance(ctx, id))

		got, err := rt.GetInstance(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, ports.InstanceStopped, got.Status)
		assert.Equal(t, turn[len(turn)-1].Seq, got.LatestSeq)
		evs, latest, err := rt.History(ctx, id, 0, 100)
		require.NoError(t, err)
		assert.Equal(t, got.LatestSeq, latest)
		assertSameEvents(t, turn, evs)

		require.NoError(t, rt.StopInstance(ctx, id))
		require.NoError(t, rt.StopInstance(ctx, "inst_missing"), "stopping a missing instance is success")
	})

	t.Run("echo turn streams its events in order with gapless seq", func(t *testing.T) {
		rt := newRuntime(t)
		id := create(t, rt, "echo")
		s := connect(t, rt, id, 0)
		text := "Hello, wörld — a message longer than sixteen bytes ✓"
		send(t, s, userMessage(text, "c1"))
		evs := untilTurnComplete(t, s)
		assertGapless(t, evs, 1)
		assertMapped(t, evs)

		types := typesOf(evs)
		require.GreaterOrEqual(t, len(types), 4)
		assert.Equal(t, domain.EvUserMessage, types[0])
		assert.Equal(t, domain.EvTurnStarted, types[1])
		assert.Equal(t, domain.EvTurnComplete, types[len(types)-1])
		var joined strings.Builder
		for _, ev := range evs[2 : len(evs)-1] {
			assert.Equal(t, domain.EvTextDelta, clientType(ev))
			d := mapped(ev).Str("text")
			assert.LessOrEqual(t, len(d), 16)
			assert.True(t, utf8.ValidString(d), "a delta splits a rune: %q", d)
			joined.WriteString(d)
		}
		assert.Equal(t, text, joined.String())

		um := mapped(evs[0])
		assert.Equal(t, text, um.Str("text"))
		assert.Equal(t, "c1", um.Str("clientTurnId"))
		tc := mapped(evs[len(evs)-1])
		assert.Equal(t, text, tc.Str("finalText"))
		assert.Equal(t, domain.StopEndTurn, tc.Str("stopReason"))
		assert.Contains(t, tc.Data, "usage")

		turnID := mapped(evs[0]).TurnID
		assert.NotEmpty(t, turnID)
		for _, ev := range evs {
			assert.Equal(t, turnID, mapped(ev).TurnID)
		}
	})

	t.Run("turns get distinct ids and seq keeps growing", func(t *testing.T) {
		rt := newRuntime(t)
		id := create(t, rt, "echo")
		s := connect(t, rt, id, 0)
		send(t, s, userMessage("one", ""))
		first := untilTurnComplete(t, s)
		send(t, s, userMessage("two", ""))
		second := untilTurnComplete(t, s)
		assertGapless(t, append(append([]domain.UpstreamEvent{}, first...), second...), 1)
		assert.NotEqual(t, mapped(first[0]).TurnID, mapped(second[0]).TurnID)
	})

	t.Run("history pages by after and limit", func(t *testing.T) {
		rt := newRuntime(t)
		ctx := context.Background()
		id := create(t, rt, "echo")
		s := connect(t, rt, id, 0)
		send(t, s, userMessage("a text that needs several deltas to stream", ""))
		live := untilTurnComplete(t, s)
		n := live[len(live)-1].Seq
		require.Greater(t, n, uint64(4))

		page, latest, err := rt.History(ctx, id, 0, 2)
		require.NoError(t, err)
		assert.Equal(t, n, latest)
		assertSameEvents(t, live[:2], page)

		page, _, err = rt.History(ctx, id, 2, 1000)
		require.NoError(t, err)
		assertSameEvents(t, live[2:], page)

		page, latest, err = rt.History(ctx, id, n, 10)
		require.NoError(t, err)
		assert.Empty(t, page)
		assert.Equal(t, n, latest)

		var all []domain.UpstreamEvent
		for after := uint64(0); ; {
			page, _, err := rt.History(ctx, id, after, 3)
			require.NoError(t, err)
			if len(page) == 0 {
				break
			}
			all = append(all, page...)
			after = page[len(page)-1].Seq
		}
		assertSameEvents(t, live, all)
	})

	t.Run("connect after N resumes exactly", func(t *testing.T) {
		rt := newRuntime(t)
		ctx := context.Background()
		id := create(t, rt, "echo")
		s := connect(t, rt, id, 0)
		send(t, s, userMessage("resume me from the middle please", ""))
		live := untilTurnComplete(t, s)
		require.Greater(t, len(live), 3)

		k := live[2].Seq
		r := connect(t, rt, id, k)
		resumed := take(t, r, len(live)-int(k))
		assertSameEvents(t, live[k:], resumed)

		// Nothing else may follow: stop the instance and the stream must end
		// cleanly with no further event.
		require.NoError(t, rt.StopInstance(ctx, id))
		rest := drain(t, r)
		assert.Empty(t, rest)
		assert.NoError(t, r.Err())
	})

	t.Run("two streams see identical events", func(t *testing.T) {
		rt := newRuntime(t)
		id := create(t, rt, "coding-agent")
		a := connect(t, rt, id, 0)
		b := connect(t, rt, id, 0)
		send(t, a, userMessage("write it down", ""))
		ea := untilTurnComplete(t, a)
		eb := untilTurnComplete(t, b)
		assertSameEvents(t, ea, eb)
	})

	t.Run("coding-agent thinks, writes a file and reports", func(t *testing.T) {
		rt := newRuntime(t)
		id := create(t, rt, "coding-agent")
		s := connect(t, rt, id, 0)
		send(t, s, userMessage("remember the milk", "c7"))
		evs := untilTurnComplete(t, s)
		assertGapless(t, evs, 1)
		assertMapped(t, evs)
		assert.Equal(t, []string{
			domain.EvUserMessage, domain.EvTurnStarted,
			domain.EvThinkingStart, domain.EvThinkingProgress, domain.EvThinkingProgress, domain.EvThinkingComplete,
			domain.EvToolCallStart, domain.EvToolCallDelta, domain.EvToolCall, domain.EvToolResult,
			domain.EvTerminalStream, domain.EvTerminalStream, domain.EvTerminalComplete, domain.EvUsageUpdated,
		}, typesOf(evs)[:14])
		tail := typesOf(evs)[14:]
		require.Greater(t, len(tail), 2, "several text deltas, then turn_complete")
		for _, typ := range tail[:len(tail)-1] {
			assert.Equal(t, domain.EvTextDelta, typ)
		}
		assert.Equal(t, domain.EvTurnComplete, tail[len(tail)-1])

		call := mapped(find(t, evs, domain.EvToolCall))
		assert.Equal(t, "write_file", call.Str("toolName"))
		input, _ := call.Data["input"].(map[string]any)
		assert.NotEmpty(t, input["path"])
		assert.Contains(t, input["content"], "remember the milk")
		res := mapped(find(t, evs, domain.EvToolResult))
		assert.Equal(t, call.Str("toolCallId"), res.Str("toolCallId"))
		assert.Equal(t, false, res.Data["isError"])
		assert.Equal(t, 0.0, mapped(find(t, evs, domain.EvTerminalComplete)).Data["exitCode"])

		tc := mapped(evs[len(evs)-1])
		assert.Equal(t, domain.StopEndTurn, tc.Str("stopReason"))
		assert.Equal(t, joinedText(evs), tc.Str("finalText"))
		usage, _ := tc.Data["usage"].(map[string]any)
		assert.Greater(t, usage["inputTokens"], 0.0)
		assert.Greater(t, usage["outputTokens"], 0.0)
	})

	t.Run("guarded-agent runs the tool once approved", func(t *testing.T) {
		rt := newRuntime(t)
		id := create(t, rt, "guarded-agent")
		s := connect(t, rt, id, 0)
		send(t, s, userMessage("guard this", ""))
		before := until(t, s, domain.EvPermissionRequested)
		pr := mapped(before[len(before)-1])
		assert.Equal(t, "write_file", pr.Str("toolName"))
		assert.NotEmpty(t, pr.Str("description"))
		require.NotEmpty(t, pr.Str("promptId"))

		send(t, s, answer(pr.Str("promptId"), true, false))
		after := untilTurnComplete(t, s)
		assertGapless(t, append(before, after...), 1)
		assertMapped(t, after)
		ar := mapped(after[0])
		require.Equal(t, domain.EvApprovalResolved, ar.Type)
		assert.Equal(t, pr.Str("promptId"), ar.Str("promptId"))
		assert.Equal(t, true, ar.Data["approved"])
		assert.Equal(t, domain.EvToolCallStart, clientType(after[1]))
		find(t, after, domain.EvToolResult)
		assert.Equal(t, domain.StopEndTurn, mapped(after[len(after)-1]).Str("stopReason"))
	})

	for _, c := range []struct {
		name      string
		approved  bool
		dismissed bool
	}{{"denied", false, false}, {"dismissed", false, true}} {
		t.Run("guarded-agent skips the tool when "+c.name, func(t *testing.T) {
			rt := newRuntime(t)
			id := create(t, rt, "guarded-agent")
			s := connect(t, rt, id, 0)
			send(t, s, userMessage("guard this", ""))
			before := until(t, s, domain.EvPermissionRequested)
			promptID := mapped(before[len(before)-1]).Str("promptId")

			send(t, s, answer(promptID, c.approved, c.dismissed))
			after := untilTurnComplete(t, s)
			assertGapless(t, append(before, after...), 1)
			assertMapped(t, after)
			ar := mapped(after[0])
			require.Equal(t, domain.EvApprovalResolved, ar.Type)
			assert.Equal(t, false, ar.Data["approved"])
			if c.dismissed {
				assert.Equal(t, true, ar.Data["dismissed"])
			}
			for _, ev := range after[1 : len(after)-1] {
				assert.Equal(t, domain.EvTextDelta, clientType(ev), "no tool runs after a refusal")
			}
			tc := mapped(after[len(after)-1])
			assert.Equal(t, domain.StopEndTurn, tc.Str("stopReason"))
			assert.NotEmpty(t, tc.Str("finalText"))
		})
	}

	t.Run("asking-agent asks questions and replies with the answers", func(t *testing.T) {
		rt := newRuntime(t)
		id := create(t, rt, "asking-agent")
		s := connect(t, rt, id, 0)
		send(t, s, userMessage("ask me", ""))
		before := until(t, s, domain.EvQuestionRequested)
		q := mapped(before[len(before)-1])
		require.NotEmpty(t, q.Str("promptId"))
		qs, _ := q.Data["questions"].([]any)
		require.Len(t, qs, 2)
		for _, x := range qs {
			m, _ := x.(map[string]any)
			assert.NotEmpty(t, m["id"])
			assert.NotEmpty(t, m["question"])
		}

		answers := map[string]any{"topic": "tides", "tone": "casual"}
		send(t, s, ports.AgentCommand{Type: ports.CmdAnswer, PromptID: q.Str("promptId"), Answers: answers})
		after := untilTurnComplete(t, s)
		assertGapless(t, append(before, after...), 1)
		assertMapped(t, after)
		ar := mapped(after[0])
		require.Equal(t, domain.EvApprovalResolved, ar.Type)
		assert.Equal(t, q.Str("promptId"), ar.Str("promptId"))
		assert.Equal(t, answers, ar.Data["answers"])
		tc := mapped(after[len(after)-1])
		assert.Equal(t, domain.StopEndTurn, tc.Str("stopReason"))
		assert.Contains(t, tc.Str("finalText"), "tides")
		assert.Contains(t, tc.Str("finalText"), "casual")
		assert.Equal(t, joinedText(after), tc.Str("finalText"))
	})

	t.Run("asking-agent ends the turn when the question is dismissed", func(t *testing.T) {
		rt := newRuntime(t)
		id := create(t, rt, "asking-agent")
		s := connect(t, rt, id, 0)
		send(t, s, userMessage("ask me", ""))
		before := until(t, s, domain.EvQuestionRequested)
		promptID := mapped(before[len(before)-1]).Str("promptId")

		yes := true
		send(t, s, ports.AgentCommand{Type: ports.CmdAnswer, PromptID: promptID, Dismissed: &yes})
		after := untilTurnComplete(t, s)
		assertGapless(t, append(before, after...), 1)
		ar := mapped(after[0])
		require.Equal(t, domain.EvApprovalResolved, ar.Type)
		assert.Equal(t, true, ar.Data["dismissed"])
		assert.Nil(t, ar.Data["answers"])
		tc := mapped(after[len(after)-1])
		assert.Equal(t, domain.StopEndTurn, tc.Str("stopReason"))
		assert.NotEmpty(t, tc.Str("finalText"))
		assert.NotContains(t, tc.Str("finalText"), "topic:")
	})

	t.Run("interrupt while waiting for permission cancels the turn", func(t *testing.T) {
		rt := newRuntime(t)
		id := create(t, rt, "guarded-agent")
		s := connect(t, rt, id, 0)
		send(t, s, userMessage("guard this", ""))
		before := until(t, s, domain.EvPermissionRequested)
		send(t, s, ports.AgentCommand{Type: ports.CmdInterrupt})
		end := take(t, s, 1)
		tc := mapped(end[0])
		require.Equal(t, domain.EvTurnComplete, tc.Type)
		assert.Equal(t, domain.StopCancelled, tc.Str("stopReason"))
		assert.Equal(t, "", tc.Str("finalText"))
		assert.Equal(t, mapped(before[0]).TurnID, tc.TurnID)

		// The answer to the dead prompt is refused, and the next turn's
		// events follow the cancellation directly.
		send(t, s, answer(mapped(before[len(before)-1]).Str("promptId"), true, false))
		send(t, s, userMessage("next", ""))
		next := take(t, s, 1)
		assert.Equal(t, domain.EvUserMessage, clientType(next[0]))
		assert.Equal(t, end[0].Seq+1, next[0].Seq)
		assert.NotEqual(t, tc.TurnID, mapped(next[0]).TurnID)
	})

	t.Run("interrupt racing a running turn ends it exactly once", func(t *testing.T) {
		rt := newRuntime(t)
		id := create(t, rt, "coding-agent")
		s := connect(t, rt, id, 0)
		send(t, s, userMessage("race me", ""))
		send(t, s, ports.AgentCommand{Type: ports.CmdInterrupt})
		first := untilTurnComplete(t, s)
		send(t, s, userMessage("again", ""))
		second := untilTurnComplete(t, s)
		all := append(append([]domain.UpstreamEvent{}, first...), second...)
		assertGapless(t, all, 1)
		assertMapped(t, all)
		firstTurn := mapped(first[0]).TurnID
		for _, ev := range second {
			assert.NotEqual(t, firstTurn, mapped(ev).TurnID, "an event of the ended turn came after its turn_complete")
		}
		if stop := mapped(first[len(first)-1]).Str("stopReason"); stop == domain.StopCancelled {
			assert.Equal(t, joinedText(first), mapped(first[len(first)-1]).Str("finalText"))
		}
	})

	t.Run("steer during a turn is applied and echoed", func(t *testing.T) {
		rt := newRuntime(t)
		id := create(t, rt, "guarded-agent")
		s := connect(t, rt, id, 0)
		send(t, s, userMessage("guard this", ""))
		before := until(t, s, domain.EvPermissionRequested)
		send(t, s, ports.AgentCommand{Type: ports.CmdSteer, Text: "keep it short"})
		st := take(t, s, 1)
		sm := mapped(st[0])
		require.Equal(t, domain.EvSteerApplied, sm.Type)
		assert.Equal(t, "keep it short", sm.Str("text"))
		assert.Equal(t, mapped(before[0]).TurnID, sm.TurnID)
		send(t, s, answer(mapped(before[len(before)-1]).Str("promptId"), true, false))
		after := untilTurnComplete(t, s)
		assertGapless(t, append(append(before, st...), after...), 1)
	})

	t.Run("commands that cannot apply change nothing", func(t *testing.T) {
		rt := newRuntime(t)
		ctx := context.Background()
		id := create(t, rt, "guarded-agent")
		s := connect(t, rt, id, 0)
		send(t, s, ports.AgentCommand{Type: ports.CmdSteer, Text: "no turn yet"})
		send(t, s, ports.AgentCommand{Type: ports.CmdInterrupt})
		send(t, s, answer("prompt_unknown", true, false))
		send(t, s, userMessage("guard this", ""))
		before := until(t, s, domain.EvPermissionRequested)
		assert.Equal(t, domain.EvUserMessage, clientType(before[0]))
		assert.Equal(t, uint64(1), before[0].Seq)

		send(t, s, userMessage("a turn is already running", ""))
		send(t, s, answer("prompt_unknown", true, false))
		send(t, s, ports.AgentCommand{Type: ports.CmdInterrupt})
		end := take(t, s, 1)
		assert.Equal(t, domain.EvTurnComplete, clientType(end[0]))
		assert.Equal(t, before[len(before)-1].Seq+1, end[0].Seq)

		_, latest, err := rt.History(ctx, id, 0, 1)
		require.NoError(t, err)
		assert.Equal(t, end[0].Seq, latest)
	})

	t.Run("stopped instance: stream sends the history and ends cleanly", func(t *testing.T) {
		rt := newRuntime(t)
		ctx := context.Background()
		id := create(t, rt, "echo")
		s := connect(t, rt, id, 0)
		send(t, s, userMessage("before the stop", ""))
		live := untilTurnComplete(t, s)
		require.NoError(t, rt.StopInstance(ctx, id))
		assert.Empty(t, drain(t, s), "a live stream ends when its instance stops")
		assert.NoError(t, s.Err())

		r := connect(t, rt, id, 1)
		assertSameEvents(t, live[1:], drain(t, r))
		assert.NoError(t, r.Err())
	})

	t.Run("stop during a turn cancels it first", func(t *testing.T) {
		rt := newRuntime(t)
		id := create(t, rt, "guarded-agent")
		s := connect(t, rt, id, 0)
		send(t, s, userMessage("guard this", ""))
		until(t, s, domain.EvPermissionRequested)
		require.NoError(t, rt.StopInstance(context.Background(), id))
		rest := drain(t, s)
		require.Len(t, rest, 1)
		assert.Equal(t, domain.StopCancelled, mapped(rest[0]).Str("stopReason"))
		assert.NoError(t, s.Err())
	})

	t.Run("closing a stream ends it without error", func(t *testing.T) {
		rt := newRuntime(t)
		id := create(t, rt, "echo")
		s := connect(t, rt, id, 0)
		require.NoError(t, s.Close())
		assert.Empty(t, drain(t, s))
		assert.NoError(t, s.Err())
		assert.Error(t, s.Send(context.Background(), userMessage("too late", "")))
	})

	t.Run("a stream closed before it is read: Run returns at once without error", func(t *testing.T) {
		rt := newRuntime(t)
		id := create(t, rt, "echo")
		s, err := rt.Connect(context.Background(), id, 0)
		require.NoError(t, err)
		require.NoError(t, s.Close())
		returned := make(chan error, 1)
		go func() {
			returned <- s.Run(func(domain.UpstreamEvent) bool {
				t.Error("an event after Close")
				return true
			})
		}()
		select {
		case err := <-returned:
			assert.NoError(t, err)
		case <-time.After(wait):
			t.Fatalf("Run did not return within %s of a Close", wait)
		}
	})
}

func spec(agentType string) ports.InstanceSpec {
	return ports.InstanceSpec{TenantID: "t1", SessionID: "s-" + agentType, AgentType: agentType}
}

func create(t *testing.T, rt ports.AgentRuntime, agentType string) string {
	t.Helper()
	info, err := rt.CreateInstance(context.Background(), spec(agentType))
	require.NoError(t, err)
	return info.ID
}

func connect(t *testing.T, rt ports.AgentRuntime, id string, after uint64) *Tap {
	t.Helper()
	s, err := rt.Connect(context.Background(), id, after)
	require.NoError(t, err)
	tp := NewTap(s)
	t.Cleanup(func() { _ = tp.Close() })
	return tp
}

// Tap reads a stream as the hub does, with Run on a goroutine of its own,
// and passes the events on over a channel, so that tests can wait for them
// with a timeout. Close it, not the stream, when done.
type Tap struct {
	ports.AgentStream
	events chan domain.UpstreamEvent // closed after err is set
	quit   chan struct{}
	once   sync.Once
	err    error
}

// NewTap starts reading s.
func NewTap(s ports.AgentStream) *Tap {
	tp := &Tap{AgentStream: s, events: make(chan domain.UpstreamEvent), quit: make(chan struct{})}
	go func() {
		tp.err = s.Run(func(ev domain.UpstreamEvent) bool {
			select {
			case tp.events <- ev:
				return true
			case <-tp.quit:
				return false
			}
		})
		close(tp.events)
	}()
	return tp
}

// Events delivers the events; it is closed when Run has returned.
func (tp *Tap) Events() <-chan domain.UpstreamEvent { return tp.events }

// Err is what Run returned; valid once Events is closed.
func (tp *Tap) Err() error { return tp.err }

// Close stops the reading, then closes the stream.
func (tp *Tap) Close() error {
	tp.once.Do(func() { close(tp.quit) })
	return tp.AgentStream.Close()
}

func send(t *testing.T, s ports.AgentStream, cmd ports.AgentCommand) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	require.NoError(t, s.Send(ctx, cmd))
}

func userMessage(text, clientTurnID string) ports.AgentCommand {
	return ports.AgentCommand{Type: ports.CmdUserMessage, Text: text, ClientTurnID: clientTurnID}
}

func answer(promptID string, approved, dismissed bool) ports.AgentCommand {
	cmd := ports.AgentCommand{Type: ports.CmdAnswer, PromptID: promptID, Approved: &approved}
	if dismissed {
		cmd.Dismissed = &dismissed
	}
	return cmd
}

// next waits for one event; ok is false when the stream ended.
func next(t *testing.T, s *Tap) (domain.UpstreamEvent, bool) {
	t.Helper()
	select {
	case ev, ok := <-s.events:
		return ev, ok
	case <-time.After(wait):
		t.Fatalf("no event within %s", wait)
		return domain.UpstreamEvent{}, false
	}
}

// until reads events up to and including the first of client type typ.
func until(t *testing.T, s *Tap, typ string) []domain.UpstreamEvent {
	t.Helper()
	var out []domain.UpstreamEvent
	for {
		ev, ok := next(t, s)
		if !ok {
			t.Fatalf("stream ended before %s (err %v) after %v", typ, s.Err(), typesOf(out))
		}
		out = append(out, ev)
		if clientType(ev) == typ {
			return out
		}
	}
}

func untilTurnComplete(t *testing.T, s *Tap) []domain.UpstreamEvent {
	t.Helper()
	return until(t, s, domain.EvTurnComplete)
}

func take(t *testing.T, s *Tap, n int) []domain.UpstreamEvent {
	t.Helper()
	out := make([]domain.UpstreamEvent, 0, n)
	for len(out) < n {
		ev, ok := next(t, s)
		if !ok {
			t.Fatalf("stream ended after %d of %d events (err %v)", len(out), n, s.Err())
		}
		out = append(out, ev)
	}
	return out
}

// drain reads until the stream ends.
func drain(t *testing.T, s *Tap) []domain.UpstreamEvent {
	t.Helper()
	var out []domain.UpstreamEvent
	for {
		ev, ok := next(t, s)
		if !ok {
			return out
		}
		out = append(out, ev)
	}
}

func find(t *testing.T, evs []domain.UpstreamEvent, typ string) domain.UpstreamEvent {
	t.Helper()
	for _, ev := range evs {
		if clientType(ev) == typ {
			return ev
		}
	}
	t.Fatalf("no %s among %v", typ, typesOf(evs))
	return domain.UpstreamEvent{}
}

func mapped(ev domain.UpstreamEvent) *domain.Event {
	m := domain.MapUpstream("s", ev.Seq, ev)
	return &m
}

func clientType(ev domain.UpstreamEvent) string { return mapped(ev).Type }

func typesOf(evs []domain.UpstreamEvent) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = clientType(ev)
	}
	return out
}

func joinedText(evs []domain.UpstreamEvent) string {
	var b strings.Builder
	for _, ev := range evs {
		if m := mapped(ev); m.Type == domain.EvTextDelta {
			b.WriteString(m.Str("text"))
		}
	}
	return b.String()
}

func assertGapless(t *testing.T, evs []domain.UpstreamEvent, first uint64) {
	t.Helper()
	for i, ev := range evs {
		if !assert.Equal(t, first+uint64(i), ev.Seq, "seq of event %d", i) {
			return
		}
	}
}

// assertMapped holds every event to a real client event: a simulated agent
// that needs the agent_event fallback speaks a dialect the mapper lacks.
func assertMapped(t *testing.T, evs []domain.UpstreamEvent) {
	t.Helper()
	for _, ev := range evs {
		assert.NotEqual(t, domain.EvAgentEvent, clientType(ev), "upstream type %q has no mapping", domain.UpstreamType(ev.Frame()))
		assert.NotZero(t, ev.TS)
	}
}

func assertSameEvents(t *testing.T, want, got []domain.UpstreamEvent) {
	t.Helper()
	require.Equal(t, len(want), len(got), "event count")
	for i := range want {
		assert.Equal(t, want[i].Seq, got[i].Seq)
		assert.Equal(t, want[i].TS, got[i].TS)
		assert.Equal(t, want[i].Frame(), got[i].Frame())
	}
}
