package podiumsim

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/diminuendo/diminuendo/domain"
)

const (
	stopEndTurn   = "end_turn"
	stopCancelled = "cancelled"

	// tokenBytes is the size of one generated "token": the agent produces
	// text piece by piece and its coalescer turns pieces into deltas.
	tokenBytes = 4
)

// agent runs one turn. It returns when the turn is over; every emit after
// an interrupt is refused, so an agent needs no cancellation logic beyond
// stopping when an emit fails.
type agent func(t *turn)

var agents = map[string]agent{
	"echo":          echoAgent,
	"coding-agent":  func(t *turn) { codingAgent(t, false) },
	"guarded-agent": func(t *turn) { codingAgent(t, true) },
	"asking-agent":  askingAgent,
}

// turn is one running turn of an instance. The fields below in are guarded
// by in.mu.
type turn struct {
	in       *instance
	id       string
	userText string
	ctx      context.Context // ends when the turn does
	cancel   context.CancelFunc
	answers  chan answer

	done      bool
	text      strings.Builder // agent text so far: final_text of an interrupted turn
	prompt    string          // the prompt awaiting an answer
	question  bool            // the open prompt is a question, which is answered, not approved
	steers    []string
	outTokens int
}

type answer struct {
	approved  *bool
	answers   map[string]any
	dismissed *bool
}

func (a answer) granted() bool {
	return a.approved != nil && *a.approved && (a.dismissed == nil || !*a.dismissed)
}

// pause spaces scripted events by the engine's StepDelay. False: the turn ended.
func (t *turn) pause() bool {
	if d := t.in.eng.opts.StepDelay; d > 0 {
		return t.sleep(d)
	}
	return t.ctx.Err() == nil
}

// step runs fn under the instance lock unless the turn has ended meanwhile.
func (t *turn) step(fn func()) bool {
	if !t.pause() {
		return false
	}
	t.in.mu.Lock()
	defer t.in.mu.Unlock()
	if t.done {
		return false
	}
	fn()
	return true
}

func (t *turn) emit(eventType string, content map[string]any) bool {
	return t.step(func() { t.in.appendLocked(eventType, t.id, content) })
}

// say generates s token by token (a token every StepDelay/8) and streams
// it as text_delta events coalesced like a real agent runtime does: a delta
// at 10 ms or 4 KiB, whichever first. With no StepDelay (tests) there is no
// time to coalesce over and every token is its own delta, which makes for
// long histories from short texts. Pieces split on rune boundaries, so every
// delta is valid UTF-8 on its own.
func (t *turn) say(s string) bool {
	if !t.pause() {
		return false
	}
	co := domain.DefaultCoalescer()
	if t.in.eng.opts.StepDelay <= 0 {
		co.MaxBytes = 1
	}
	emit := func(c string) bool {
		t.in.mu.Lock()
		defer t.in.mu.Unlock()
		if t.done {
			return false
		}
		t.text.WriteString(c)
		t.outTokens += tokens(c)
		t.in.appendLocked("text_delta", t.id, map[string]any{"text": c})
		return true
	}
	gap := t.in.eng.opts.StepDelay / 8
	for _, c := range chunks(s, tokenBytes) {
		if gap > 0 && !t.sleep(gap) {
			return false
		}
		if d, ok := co.Add(c, t.in.eng.opts.Now()); ok && !emit(d) {
			return false
		}
	}
	if d, ok := co.Flush(); ok {
		return emit(d)
	}
	return t.ctx.Err() == nil
}

// sleep waits d unless the turn ends first.
func (t *turn) sleep(d time.Duration) bool {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-t.ctx.Done():
		return false
	}
}

// ask emits a permission prompt and waits for its answer; approval_resolved
// is emitted by the answer command itself, so it is ordered with the command.
func (t *turn) ask(promptID, toolName, description string) (answer, bool) {
	ok := t.step(func() {
		t.prompt = promptID
		t.in.appendLocked("tool.permission_requested", t.id, map[string]any{
			"prompt_id": promptID, "tool_name": toolName, "description": description,
		})
	})
	if !ok {
		return answer{}, false
	}
	return t.await()
}

// askQuestions asks the user questions and waits for the answer, as ask does
// for a permission.
func (t *turn) askQuestions(promptID string, questions []map[string]any) (answer, bool) {
	qs := make([]any, len(questions))
	for i, q := range questions {
		qs[i] = q
	}
	ok := t.step(func() {
		t.prompt = promptID
		t.question = true
		t.in.appendLocked("tool.question_requested", t.id, map[string]any{"prompt_id": promptID, "questions": qs})
	})
	if !ok {
		return answer{}, false
	}
	return t.await()
}

func (t *turn) await() (answer, bool) {
	select {
	case a := <-t.answers:
		return a, true
	case <-t.ctx.Done():
		return answer{}, false
	}
}

func (t *turn) complete() {
	t.step(func() { t.finishLocked(stopEndTurn) })
}

func (t *turn) usageLocked() map[string]any {
	return map[string]any{"input_tokens": tokens(t.userText), "output_tokens": t.outTokens}
}

// finishLocked ends the turn with turn_complete; nothing of it is emitted after.
func (t *turn) finishLocked(stopReason string) {
	t.in.appendLocked("turn_complete", t.id, map[string]any{
		"final_text": t.text.String(), "stop_reason": stopReason, "usage": t.usageLocked(),
	})
	t.done = true
	t.prompt = ""
	t.in.turn = nil
	t.cancel()
}

func (t *turn) steerLocked(text string) {
	t.steers = append(t.steers, text)
	t.in.appendLocked("steer", t.id, map[string]any{"text": text})
}

func (t *turn) answerLocked(a answer) {
	c := map[string]any{"prompt_id": t.prompt}
	if !t.question {
		c["approved"] = a.granted()
	}
	if a.answers != nil {
		c["answers"] = a.answers
	}
	if a.dismissed != nil {
		c["dismissed"] = *a.dismissed
	}
	t.prompt = ""
	t.question = false
	t.in.appendLocked("tool.approval_resolved", t.id, c)
	t.answers <- a // buffered; one prompt is open at a time
}

func echoAgent(t *turn) {
	if t.say(t.userText) {
		t.complete()
	}
}

// askingQuestions are what asking-agent asks: ids key the answers, as the
// web client and the ACP edge read them.
var askingQuestions = []map[string]any{
	{"id": "topic", "question": "What should the note be about?"},
	{"id": "tone", "question": "Which tone: formal or casual?"},
}

// askingAgent asks two questions, waits for the answer and writes a reply
// built from it; a dismissed question ends the turn without one.
func askingAgent(t *turn) {
	a, ok := t.askQuestions("prompt_"+t.id, askingQuestions)
	if !ok {
		return
	}
	if a.dismissed != nil && *a.dismissed {
		if t.say("Understood, I will leave it there.") {
			t.complete()
		}
		return
	}
	reply := "Thank you."
	for _, q := range askingQuestions {
		id := q["id"].(string)
		reply += " " + id + ": " + answerText(a.answers[id]) + "."
	}
	if t.say(reply) {
		t.complete()
	}
}

// answerText renders one answer: a string as it is, anything else as JSON,
// and a missing one as such.
func answerText(v any) string {
	switch v := v.(type) {
	case nil:
		return "(no answer)"
	case string:
		return v
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return "(unreadable answer)"
		}
		return string(b)
	}
}

// notesPath is the file the coding agents write, one iteration per turn.
const notesPath = "notes.md"

func codingAgent(t *turn, guarded bool) {
	callID := "call_" + t.id
	body := "# Notes\n\n" + t.userText + "\n"
	input := map[string]any{"path": notesPath, "content": body}
	raw, _ := json.Marshal(input) // strings only: cannot fail

	ok := t.emit("thinking.start", nil) &&
		t.emit("thinking.progress", map[string]any{"text": "Reading the request."}) &&
		t.emit("thinking.progress", map[string]any{"text": " I will record it in " + notesPath + "."}) &&
		t.emit("thinking.complete", nil)
	if !ok {
		return
	}
	if guarded {
		a, ok := t.ask("prompt_"+t.id, "write_file", "Write "+notesPath+" in the workspace")
		if !ok {
			return
		}
		if !a.granted() {
			if t.say("I did not run write_file: permission was not granted.") {
				t.complete()
			}
			return
		}
	}
	var iteration int
	ok = t.emit("tool.call_start", map[string]any{"tool_call_id": callID, "tool_name": "write_file"}) &&
		t.emit("tool.call_delta", map[string]any{"tool_call_id": callID, "delta": string(raw)}) &&
		t.emit("tool.call", map[string]any{"tool_call_id": callID, "tool_name": "write_file", "input": input}) &&
		t.step(func() {
			iteration = t.in.ws.put(notesPath, []byte(body), t.in.eng.opts.Now())
			t.outTokens += tokens(string(raw))
		}) &&
		t.emit("tool.result", map[string]any{
			"tool_call_id": callID, "is_error": false,
			"output": "wrote " + itoa(len(body)) + " bytes to " + notesPath + " (iteration " + itoa(iteration) + ")",
		}) &&
		t.emit("terminal.stream", map[string]any{"data": "$ wc -c " + notesPath + "\n"}) &&
		t.emit("terminal.stream", map[string]any{"data": itoa(len(body)) + " " + notesPath + "\n"}) &&
		t.emit("terminal.complete", map[string]any{"exit_code": 0})
	if !ok {
		return
	}
	ok = t.step(func() { t.in.appendLocked("usage.updated", t.id, t.usageLocked()) })
	if !ok {
		return
	}
	for _, s := range []string{"Done. ", "I saved your request to " + notesPath + " ", "(iteration " + itoa(iteration) + ")."} {
		if !t.say(s) {
			return
		}
	}
	if !t.say(t.steerNote()) {
		return
	}
	t.complete()
}

// steerNote acknowledges the steers received so far, so steering shows in the answer.
func (t *turn) steerNote() string {
	t.in.mu.Lock()
	defer t.in.mu.Unlock()
	if len(t.steers) == 0 {
		return ""
	}
	return " Noted your guidance: " + strings.Join(t.steers, "; ") + "."
}

// chunks splits s into pieces of at most max bytes on rune boundaries.
func chunks(s string, max int) []string {
	var out []string
	for len(s) > 0 {
		n := 0
		for n < len(s) {
			_, size := utf8.DecodeRuneInString(s[n:])
			if n+size > max && n > 0 {
				break
			}
			n += size
		}
		out = append(out, s[:n])
		s = s[n:]
	}
	return out
}

// tokens is a rough token count (about four bytes a token), enough for usage.
func tokens(s string) int { return (len(s) + 3) / 4 }

func itoa(n int) string { return strconv.Itoa(n) }
