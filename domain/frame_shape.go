package domain

import "encoding/binary"

// A runtime writes the frames of one stream with one serializer: a run of
// text_delta frames differs only in its values, the keys, their order and
// the punctuation between them staying the same. The typed path keeps the
// last accepted frame's shape, the exact bytes between its values (the
// glue: braces, keys, colons, commas, any whitespace) and what each value
// is read into, and reads the next frame by comparing its glue and
// scanning only its values. A frame whose glue differs anywhere is read
// by readTyped, which records its shape in turn.
//
// The shape's reading is readTyped's: readTyped accepted this exact glue
// (so its keys, structure and content object, each destination once), and
// the values are scanned by the same scanners and held to the rules of
// typedFrame.assign.

// Where a value goes: nowhere, a top-level field of typedFrame, or a
// content slot (dstContent + slot).
const (
	dstNone uint8 = iota
	dstEventType
	dstMessageType
	dstType
	dstTurnID
	dstTurnIDCamel
	dstContent
)

// assign reads val into dst as readTyped does: a top-level field must be
// an unescaped string seen once, a content slot must be seen once.
func (tf *typedFrame) assign(dst uint8, val span) bool {
	if dst < dstContent {
		if dst == dstNone {
			return true
		}
		p := &tf.top[dst]
		if p.kind != kindNone || val.kind != kindString || val.esc {
			return false
		}
		*p = val
		return true
	}
	slot := dst - dstContent
	if tf.present&(1<<slot) != 0 {
		return false
	}
	tf.content[slot%maxContentKeys] = val
	tf.present |= 1 << slot
	return true
}

// readValue reads the value at raw[i] as scanValue does, with the
// one-word string and the number first.
func readValue(raw []byte, i, depth int) (sp span, next int, ok bool) {
	if i < len(raw) {
		switch c := raw[i]; {
		case c == '"':
			if k := shortString(raw, i+1); k >= 0 {
				return span{start: i + 1, end: k, kind: kindString}, k + 1, true
			}
			return scanLongString(raw, i)
		case c == '-' || '0' <= c && c <= '9':
			next, ok = scanNumber(raw, i)
			return span{start: i, end: next, kind: kindNumber}, next, ok
		}
	}
	return scanValue(raw, i, depth)
}

// Bounds of a shape kept: frames with more values, or more glue, are read
// by readTyped every time.
const (
	maxShapeValues = 24
	maxShapeGlue   = 512
)

// shapeRecorder notes, during readTyped, each value's place and
// destination. A nil recorder notes nothing.
type shapeRecorder struct {
	n    int
	vals [maxShapeValues]struct {
		start, end int
		dst, depth uint8
	}
}

func (r *shapeRecorder) value(start, end int, dst uint8, depth int) {
	if r == nil {
		return
	}
	if r.n < len(r.vals) {
		v := &r.vals[r.n]
		v.start, v.end, v.dst, v.depth = start, end, dst, uint8(depth)
	}
	r.n++
}

// shapeValue is one value of a shape and the glue before it,
// frameShape.glue[glueStart:glueEnd], whose first 16 bytes are also kept
// as two words and masks: a glue is mostly a key and its punctuation, and
// two word compares cost less than a call to compare bytes.
type shapeValue struct {
	glueStart, glueEnd uint16
	dst, depth         uint8
	word, mask         [2]uint64
}

// frameShape is the shape of the last frame readTyped accepted.
type frameShape struct {
	glue   []byte // the glue before each value, then the tail
	tail   int    // where the tail starts in glue
	values []shapeValue
	valid  bool
}

// record makes s the shape of raw, which readTyped accepted noting its
// values in r; a frame past the bounds leaves no shape.
func (s *frameShape) record(raw []byte, r *shapeRecorder) {
	s.valid = false
	if r.n > len(r.vals) {
		return
	}
	glue := 0
	prev := 0
	for _, v := range r.vals[:r.n] {
		glue += v.start - prev
		prev = v.end
	}
	if glue += len(raw) - prev; glue > maxShapeGlue {
		return
	}
	s.glue, s.values = s.glue[:0], s.values[:0]
	prev = 0
	for _, v := range r.vals[:r.n] {
		sv := shapeValue{glueStart: uint16(len(s.glue)), dst: v.dst, depth: v.depth}
		s.glue = append(s.glue, raw[prev:v.start]...)
		sv.glueEnd = uint16(len(s.glue))
		var w [16]byte
		n := copy(w[:], raw[prev:v.start])
		for k := range 2 {
			sv.word[k] = binary.LittleEndian.Uint64(w[8*k:])
			switch rest := n - 8*k; {
			case rest >= 8:
				sv.mask[k] = ^uint64(0)
			case rest > 0:
				sv.mask[k] = 1<<(8*rest) - 1
			}
		}
		s.values = append(s.values, sv)
		prev = v.end
	}
	s.tail = len(s.glue)
	s.glue = append(s.glue, raw[prev:]...)
	s.valid = true
}

// gluedAt says raw[i:] starts with v's glue, for the glues read does not
// settle with its two word compares.
func (s *frameShape) gluedAt(raw []byte, i int, v *shapeValue) bool {
	n := int(v.glueEnd - v.glueStart)
	return len(raw)-i >= n && string(raw[i:i+n]) == string(s.glue[v.glueStart:v.glueEnd])
}

// read reads raw into tf (reset) as readTyped would, if raw has this
// shape; !ok says only that it has not (tf is then partly filled).
func (s *frameShape) read(raw []byte, tf *typedFrame) bool {
	var scratch span // the values read into nothing
	i := 0
	for k := range s.values {
		v := &s.values[k]
		n := int(v.glueEnd - v.glueStart)
		if i+16 <= len(raw) && n <= 16 {
			x0 := binary.LittleEndian.Uint64(raw[i:])
			x1 := binary.LittleEndian.Uint64(raw[i+8:])
			if (x0^v.word[0])&v.mask[0]|(x1^v.word[1])&v.mask[1] != 0 {
				return false
			}
		} else if !s.gluedAt(raw, i, v) {
			return false
		}
		i += n
		// The value is scanned straight into its place in tf: a shape holds
		// each destination once (readTyped refused the frame otherwise).
		sp := &scratch
		switch {
		case v.dst == dstNone:
		case v.dst < dstContent:
			if sp = &tf.top[v.dst]; sp.kind != kindNone {
				return false
			}
		default:
			slot := v.dst - dstContent
			if tf.present&(1<<slot) != 0 {
				return false
			}
			tf.present |= 1 << slot
			sp = &tf.content[slot%maxContentKeys]
		}
		// readValue, with its common cases written out.
		switch {
		case i >= len(raw):
			return false
		case raw[i] == '"':
			if k := shortString(raw, i+1); k >= 0 {
				*sp = span{start: i + 1, end: k, kind: kindString}
				i = k + 1
			} else if i = scanStringInto(raw, i, sp); i < 0 {
				return false
			}
		case '1' <= raw[i] && raw[i] <= '9':
			// A positive integer, as scanNumber reads it when no fraction
			// or exponent follows.
			if j := digitRun(raw, i+1); j == len(raw) || (raw[j] != '.' && raw[j] != 'e' && raw[j] != 'E') {
				*sp = span{start: i, end: j, kind: kindNumber}
				i = j
				break
			}
			fallthrough
		default:
			var ok bool
			if *sp, i, ok = readValue(raw, i, int(v.depth)); !ok {
				return false
			}
		}
		// assign's rule for the top-level candidates.
		if v.dst != dstNone && v.dst < dstContent && (sp.kind != kindString || sp.esc) {
			return false
		}
	}
	if string(raw[i:]) != string(s.glue[s.tail:]) {
		return false
	}
	tf.hasContent = true // readTyped accepted this glue, content and all
	return true
}
