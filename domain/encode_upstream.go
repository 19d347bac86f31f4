package domain

import (
	"bytes"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The per-event path. Most of a turn's events are a handful of streamed
// types whose content is one or two strings or counts (text_delta,
// thinking.progress, terminal.stream, tool_call_delta, usage.updated, and
// the content-less markers). For those, EncodeUpstream reads the upstream
// frame's raw JSON into a fixed set of spans and appends the client frame
// into one pre-sized buffer. Everything else, and any frame whose shape is
// not exactly what the typed path reads, goes through MapUpstream and
// Event.MarshalJSON, whose bytes the typed path reproduces exactly.

// typedTypes are the client types with a typed path. Prompt types stay
// generic: the hub keeps their Data.
var typedTypes = []string{
	EvTurnStarted, EvTextDelta, EvToolCallStart, EvToolCallDelta, EvSteerApplied,
	EvThinkingStart, EvThinkingProgress, EvThinkingComplete,
	EvTerminalStream, EvTerminalComplete, EvUsageUpdated,
}

// Content keys the typed path reads; a content key's index is its slot in
// typedFrame.content. The rules' field keys follow these three.
const (
	keyEventType = iota
	keyTurnID
	keyTurnIDCamel
)

var (
	contentKeys = map[string]int{"event_type": keyEventType, "turn_id": keyTurnID, "turnId": keyTurnIDCamel}
	typedRules  = map[string]*typedRule{}
	// The same, for lookups from raw bytes on the per-event path.
	contentSlots   keyTable[int]
	typedRuleTable keyTable[*typedRule]
)

// typedField is one client field of a typed rule.
type typedField struct {
	prefix []byte // `,"name":`
	from   []int  // content key slots, first present wins
	number bool   // a count (an integer literal) rather than a string
	def    []byte // the encoded default
}

// typedRule is the compiled form of one rule of the mapping table.
type typedRule struct {
	to     string
	head   []byte       // `{"type":"…","sessionId":`
	fields []typedField // in the order MarshalJSON writes them (by name)
}

func init() {
	for name, rl := range rules {
		if !slices.Contains(typedTypes, rl.to) || rl.passthrough {
			continue
		}
		tr := &typedRule{to: rl.to}
		tr.head = append([]byte(`{"type":`), appendString(nil, rl.to)...)
		tr.head = append(tr.head, `,"sessionId":`...)
		for _, f := range rl.fields {
			tf := typedField{prefix: append(append([]byte{','}, appendString(nil, f.out)...), ':')}
			switch d := f.def.(type) {
			case string:
				tf.def = appendString(nil, d)
			case int:
				tf.number, tf.def = true, strconv.AppendInt(nil, int64(d), 10)
			default:
				panic("typed rule " + rl.to + " has a field of another kind: " + f.out)
			}
			for _, k := range f.from {
				slot, ok := contentKeys[k]
				if !ok {
					slot = len(contentKeys)
					contentKeys[k] = slot
				}
				tf.from = append(tf.from, slot)
			}
			tr.fields = append(tr.fields, tf)
		}
		slices.SortFunc(tr.fields, func(a, b typedField) int { return slices.Compare(a.prefix, b.prefix) })
		typedRules[name] = tr
	}
	if len(contentKeys) > maxContentKeys {
		panic("typed rules read more content keys than typedFrame holds")
	}
	for k, slot := range contentKeys {
		contentSlots.put(k, slot)
	}
	for name, tr := range typedRules {
		typedRuleTable.put(name, tr)
	}
}

// maxContentKeys bounds the slots a typedFrame holds (bits of present).
const maxContentKeys = 32

// typedFrame is what the typed path reads of a frame: the type candidates
// and the turn id candidates (top, by their dst), and the content keys
// any typed rule uses. The encoder keeps one and resets it per frame;
// present says which content slots this frame set, so the slots need no
// clearing.
type typedFrame struct {
	top        [dstContent]span // top[dstNone] is unused
	hasContent bool
	present    uint32
	content    [maxContentKeys]span
}

func (tf *typedFrame) reset() {
	tf.top = [dstContent]span{}
	tf.hasContent, tf.present = false, 0
}

// readTyped reads raw (a whole upstream frame) for the typed path. It
// reports !ok for anything the generic path must judge: invalid JSON, no
// content object, a duplicate or escaped key the typed path reads, or a
// non-string where it reads a string. The content object is read in the
// same pass, not scanned first. With rec set, it notes where each value
// lies and what it is read into, for the frame's shape.
func readTyped(raw []byte, tf *typedFrame, rec *shapeRecorder) bool {
	// openObject, memberKey, scanValue and memberEnd written out, with the
	// one-word string inlined: a streamed frame is a dozen short tokens,
	// and calls were most of their cost.
	i := skipWS(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return false
	}
	if i = skipWS(raw, i+1); i < len(raw) && raw[i] == '}' {
		return false // no content
	}
	for {
		var (
			key, val span
			ok       bool
		)
		if i >= len(raw) || raw[i] != '"' {
			return false
		}
		if k := shortString(raw, i+1); k >= 0 {
			key, i = span{start: i + 1, end: k, kind: kindString}, k+1
		} else if key, i, ok = scanLongString(raw, i); !ok {
			return false
		}
		if i = skipWS(raw, i); i >= len(raw) || raw[i] != ':' {
			return false
		}
		i = skipWS(raw, i+1)
		dst := dstNone
		switch {
		case key.esc:
			if knownTopKey(raw, key) {
				return false
			}
		default:
			switch string(raw[key.start:key.end]) {
			case "event_type":
				dst = dstEventType
			case "messageType":
				dst = dstMessageType
			case "type":
				dst = dstType
			case "turn_id":
				dst = dstTurnID
			case "turnId":
				dst = dstTurnIDCamel
			case "content":
				if tf.hasContent || i >= len(raw) || raw[i] != '{' {
					return false
				}
				tf.hasContent = true
				if i, ok = readContent(raw, i, tf, rec); !ok {
					return false
				}
				goto next
			}
		}
		{
			start := i
			if val, i, ok = readValue(raw, i, 1); !ok || !tf.assign(dst, val) {
				return false
			}
			rec.value(start, i, dst, 1)
		}
	next:
		if i = skipWS(raw, i); i >= len(raw) {
			return false
		}
		switch raw[i] {
		case '}':
			return tf.hasContent && skipWS(raw, i+1) == len(raw)
		case ',':
			i = skipWS(raw, i+1)
		default:
			return false
		}
	}
}

// readContent reads the content object at raw[i] == '{' into tf's slots,
// written out as readTyped is.
func readContent(raw []byte, i int, tf *typedFrame, rec *shapeRecorder) (int, bool) {
	if i = skipWS(raw, i+1); i < len(raw) && raw[i] == '}' {
		return i + 1, true
	}
	for {
		var (
			key, val span
			ok       bool
		)
		if i >= len(raw) || raw[i] != '"' {
			return 0, false
		}
		if k := shortString(raw, i+1); k >= 0 {
			key, i = span{start: i + 1, end: k, kind: kindString}, k+1
		} else if key, i, ok = scanLongString(raw, i); !ok || key.esc {
			return 0, false
		}
		if i = skipWS(raw, i); i >= len(raw) || raw[i] != ':' {
			return 0, false
		}
		i = skipWS(raw, i+1)
		dst := dstNone
		if slot, known := contentSlots.get(raw[key.start:key.end]); known {
			dst = dstContent + uint8(slot)
		}
		start := i
		if val, i, ok = readValue(raw, i, 2); !ok || !tf.assign(dst, val) {
			return 0, false
		}
		rec.value(start, i, dst, 2)
		if i = skipWS(raw, i); i >= len(raw) {
			return 0, false
		}
		switch raw[i] {
		case '}':
			return i + 1, true
		case ',':
			i = skipWS(raw, i+1)
		default:
			return 0, false
		}
	}
}

// knownTopKey says an escaped top-level key might spell one the typed path
// reads; such a frame goes the generic way.
func knownTopKey(raw []byte, key span) bool {
	switch unquote(raw[key.start:key.end]) {
	case "event_type", "messageType", "type", "turn_id", "turnId", "content":
		return true
	}
	return false
}

// upstreamType resolves the type as UpstreamType does, as a span of raw
// (nil when there is none). The candidates are tested in place and not
// copied: this runs per event.
func (tf *typedFrame) upstreamType() (*span, bool) {
	ce := &tf.content[keyEventType]
	if tf.present&(1<<keyEventType) == 0 {
		ce = &noSpan
	} else if ce.kind != kindString || ce.esc {
		return nil, false
	}
	for _, sp := range [...]*span{&tf.top[dstEventType], &tf.top[dstMessageType], ce, &tf.top[dstType]} {
		if sp.end > sp.start {
			return sp, true
		}
	}
	return nil, true
}

// turnIDSpan resolves the turn id as turnIDOf does: the first non-empty
// string of turn_id and turnId, in the frame, then in its content (nil
// when there is none).
func (tf *typedFrame) turnIDSpan() (*span, bool) {
	for _, sp := range [...]*span{&tf.top[dstTurnID], &tf.top[dstTurnIDCamel], tf.slotp(keyTurnID), tf.slotp(keyTurnIDCamel)} {
		switch {
		case sp == nil || sp.kind == kindNone:
		case sp.kind != kindString:
			return nil, false
		case sp.end > sp.start:
			return sp, true
		}
	}
	return nil, true
}

// noSpan is the span of nothing, for a candidate that is absent.
var noSpan span

// slotp is content slot k, or nil when the frame did not set it.
func (tf *typedFrame) slotp(k int) *span {
	if tf.present&(1<<k) == 0 {
		return nil
	}
	return &tf.content[k]
}

// isCount says raw is an integer literal that survives the float64 round
// trip of the generic path with its text unchanged.
func isCount(raw []byte) bool {
	digits := raw
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || len(digits) > 15 {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// EncodeUpstream maps one upstream event to its client event and encodes it,
// with the bytes json.Marshal(MapUpstream(sessionID, seq, up)) gives. For
// the typed stream types the returned Event has no Data (its frame is
// already encoded, and nothing downstream reads it).
func EncodeUpstream(sessionID string, seq uint64, up UpstreamEvent) (Event, []byte, error) {
	return NewUpstreamEncoder(sessionID).Encode(seq, up)
}

// UpstreamEncoder is EncodeUpstream for the events of one session, in
// order. It keeps what consecutive events share: the session id encoded,
// and the start of the last frame with its turn id, so a turn's events
// share one string and one encoding of it. Not safe for
// concurrent use; the session's owner serialises it.
type UpstreamEncoder struct {
	sessionID   string
	sessionJSON []byte      // sessionID encoded
	headJSON    []byte      // the last frame's start, up to its seq
	headRule    *typedRule  // and its rule,
	headTurn    bool        // whether it has a turn id,
	turnRaw     []byte      // the last turn id as it appeared in a frame
	turnID      string      // and decoded
	seq, ts     decimal     // the last typed frame's seq and timestamp
	block       []byte      // the block frames are carved from
	used        int         // and how much of it they took
	blockSize   int         // the size of the last block made
	frame       *typedFrame // made at the first frame: a session that never streams holds none
	shape       frameShape  // of the last frame readTyped accepted
}

// Typed frames are carved one after another from blocks rather than made
// one by one: an allocation per event is most of what a small frame costs.
// A block lives while any frame in it does (the replay window drops frames
// oldest first, so blocks go whole), and a session that streams little
// holds a small block: they start at firstBlock and double up to maxBlock.
// A frame larger than a quarter of maxBlock gets its own allocation.
const (
	firstBlock = 512
	maxBlock   = 8 << 10
)

// frameBuffer returns an empty buffer of capacity n for one frame, and
// whether it lies in the current block.
func (e *UpstreamEncoder) frameBuffer(n int) ([]byte, bool) {
	if n > maxBlock/4 {
		return make([]byte, 0, n), false
	}
	if len(e.block)-e.used < n {
		e.blockSize = min(max(2*e.blockSize, firstBlock), maxBlock)
		e.block, e.used = make([]byte, e.blockSize), 0
	}
	return e.block[e.used : e.used : e.used+n], true
}

// finishFrame takes b, a frame written into a buffer of capacity n from
// frameBuffer, out of the block, and caps it so that no append to a frame
// reaches the next one. The block's slice is left as it is and only its
// offset moves: no pointer is written per frame.
func (e *UpstreamEncoder) finishFrame(b []byte, n int, inBlock bool) []byte {
	if inBlock && cap(b) == n { // not moved by a growing append
		e.used += len(b)
	}
	return b[:len(b):len(b)]
}

// NewUpstreamEncoder returns the encoder of one session's events.
func NewUpstreamEncoder(sessionID string) *UpstreamEncoder {
	return &UpstreamEncoder{sessionID: sessionID, sessionJSON: appendString(nil, sessionID)}
}

// Encode is EncodeUpstream of the encoder's session.
func (e *UpstreamEncoder) Encode(seq uint64, up UpstreamEvent) (ev Event, b []byte, err error) {
	if up.Fields == nil && up.Raw != nil {
		if rl, turnID, b := e.encodeTyped(seq, &up); b != nil {
			return Event{Type: rl.to, SessionID: e.sessionID, TurnID: turnID, Seq: seq, TS: up.TS}, b, nil
		}
	}
	ev = MapUpstream(e.sessionID, seq, up)
	b, err = ev.MarshalJSON()
	return ev, b, err
}

// head makes headJSON the frame's start up to its seq for rule rl and the
// turn id at raw[turn] (no turn id when turn is nil), and returns the turn
// id decoded. A turn's streamed events share their type and turn id, so
// the head is kept and rebuilt only when either changes, and the decoded
// turn id is kept while the turn lasts.
func (e *UpstreamEncoder) head(rl *typedRule, raw []byte, turn *span) string {
	sameTurn := turn != nil && bytes.Equal(raw[turn.start:turn.end], e.turnRaw)
	if rl != e.headRule || (turn != nil) != e.headTurn || turn != nil && !sameTurn {
		e.headRule, e.headTurn = rl, turn != nil
		h := append(e.headJSON[:0], rl.head...)
		h = append(h, e.sessionJSON...)
		if turn != nil {
			if !sameTurn {
				e.turnRaw = append(e.turnRaw[:0], raw[turn.start:turn.end]...)
				e.turnID = unquote(e.turnRaw)
			}
			h = append(h, `,"turnId":`...)
			h = appendQuotedIn(h, raw, turn.start, turn.end)
		}
		e.headJSON = append(h, `,"seq":`...)
	}
	if turn == nil {
		return ""
	}
	return e.turnID
}

// encodeTyped returns the frame with its rule and turn id, or a nil frame
// when the frame is not one the typed path takes.
func (e *UpstreamEncoder) encodeTyped(seq uint64, up *UpstreamEvent) (rl *typedRule, turnID string, frame []byte) {
	raw := up.Raw
	if e.frame == nil {
		e.frame = new(typedFrame)
	}
	tf := e.frame
	tf.reset()
	if !e.shape.valid || !e.shape.read(raw, tf) {
		tf.reset()
		var rec shapeRecorder
		if !readTyped(raw, tf, &rec) {
			return nil, "", nil
		}
		e.shape.record(raw, &rec)
	}
	typ, ok := tf.upstreamType()
	if !ok || typ == nil {
		return nil, "", nil
	}
	if rl, _ = typedRuleTable.get(raw[typ.start:typ.end]); rl == nil {
		return nil, "", nil
	}
	turn, ok := tf.turnIDSpan()
	if !ok {
		return nil, "", nil
	}
	var vals [4]*span // nil: the field's default
	if len(rl.fields) > len(vals) {
		return nil, "", nil
	}
	turnID = e.head(rl, raw, turn)
	// The head, the two counts with their names, the fields, the '}'.
	size := len(e.headJSON) + 2*20 + len(`,"ts":`) + 1
	for i := range rl.fields {
		f := &rl.fields[i]
		for _, slot := range f.from {
			if v := &tf.content[slot]; tf.present&(1<<slot) != 0 && v.kind != kindNull {
				vals[i] = v
				break
			}
		}
		switch v := vals[i]; {
		case v == nil:
			size += len(f.prefix) + len(f.def)
		case f.number && (v.kind != kindNumber || !isCount(raw[v.start:v.end])),
			!f.number && v.kind != kindString:
			return nil, "", nil
		default:
			size += len(f.prefix) + v.end - v.start + 2
		}
	}
	// A little room for escapes that grow the text; more grows the buffer.
	size += size / 8
	b, inBlock := e.frameBuffer(size)
	b = append(b, e.headJSON...)
	b = append(b, e.seq.text(seq)...)
	b = append(b, `,"ts":`...)
	if up.TS >= 0 {
		b = append(b, e.ts.text(uint64(up.TS))...)
	} else {
		b = strconv.AppendInt(b, up.TS, 10)
	}
	for i := range rl.fields {
		f := &rl.fields[i]
		b = append(b, f.prefix...)
		switch v := vals[i]; {
		case v == nil:
			b = append(b, f.def...)
		case f.number:
			b = append(b, raw[v.start:v.end]...)
		case v.asIs:
			b = append(b, '"')
			b = append(b, raw[v.start:v.end]...)
			b = append(b, '"')
		default:
			b = appendQuotedIn(b, raw, v.start, v.end)
		}
	}
	return rl, turnID, e.finishFrame(append(b, '}'), size, inBlock)
}

// ReadUpstream reads the envelope of one upstream frame without decoding
// the rest: it returns the event with Seq, TS and Raw set when raw is a
// JSON object whose seq is a positive integer, whose ts is an integer (or
// absent) and whose type and message are strings (or absent), all spelled
// exactly so. Anything else is !ok, and the caller judges the frame with
// encoding/json as before (which matches keys case-insensitively).
func ReadUpstream(raw []byte) (UpstreamEvent, bool) {
	var (
		up   UpstreamEvent
		seen [4]bool
	)
	i, more, ok := openObject(raw, skipWS(raw, 0))
	for ok && more {
		var key, val span
		if key, i, ok = memberKey(raw, i); !ok {
			break
		}
		if val, i, ok = scanValue(raw, i, 1); !ok {
			break
		}
		k := raw[key.start:key.end]
		slot := -1
		switch string(k) {
		case "seq":
			slot = 0
		case "ts":
			slot = 1
		case "type":
			slot = 2
		case "message":
			slot = 3
		default:
			if headLike(k, key.esc) {
				return UpstreamEvent{}, false
			}
		}
		if slot >= 0 {
			if seen[slot] || !up.readHead(slot, raw[val.start:val.end], val.kind) {
				return UpstreamEvent{}, false
			}
			seen[slot] = true
		}
		i, more, ok = memberEnd(raw, i)
	}
	if !ok || !seen[0] || up.Seq == 0 || skipWS(raw, i) != len(raw) {
		return UpstreamEvent{}, false
	}
	up.Raw = raw
	return up, true
}

// readHead reads one envelope value (slot 0 seq, 1 ts, 2 type, 3 message)
// as encoding/json would without error, or reports !ok.
func (u *UpstreamEvent) readHead(slot int, v []byte, k kind) bool {
	switch slot {
	case 0:
		n, ok := parseUint(v)
		u.Seq = n
		return k == kindNumber && ok
	case 1:
		neg := len(v) > 0 && v[0] == '-'
		n, ok := parseUint(bytes.TrimPrefix(v, []byte{'-'}))
		if !ok || k != kindNumber || n > math.MaxInt64 {
			return false
		}
		u.TS = int64(n)
		if neg {
			u.TS = -u.TS
		}
		return true
	}
	return k == kindString
}

// headLike says a key other than the exact envelope keys would still match
// one of them in encoding/json, which folds case (Unicode too: "ſeq").
func headLike(k []byte, esc bool) bool {
	if esc || !isASCII(k) {
		name := unquote(k)
		return strings.EqualFold(name, "seq") || strings.EqualFold(name, "ts") ||
			strings.EqualFold(name, "type") || strings.EqualFold(name, "message")
	}
	switch len(k) {
	case 2:
		return bytes.EqualFold(k, []byte("ts"))
	case 3:
		return bytes.EqualFold(k, []byte("seq"))
	case 4:
		return bytes.EqualFold(k, []byte("type"))
	case 7:
		return bytes.EqualFold(k, []byte("message"))
	}
	return false
}

// parseUint parses an unsigned integer literal, failing on overflow.
func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > math.MaxUint64/10 || (n == math.MaxUint64/10 && d > math.MaxUint64%10) {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
