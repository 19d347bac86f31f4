// Package jsonhead reads the head of a gateway message (its type, seq and
// ts) for the load tools, without decoding the rest.
package jsonhead

import "errors"

// Head is what a tool reads of a server message: its type, and the seq
// and ts of a sequenced event (0 for the others).
type Head struct {
	Type []byte // aliases the message: valid until the next read
	Seq  uint64
	TS   int64
}

// ErrSyntax reports a message that is not a well-formed JSON object.
var ErrSyntax = errors.New("malformed JSON message")

// Scan reads the top-level "type", "seq" and "ts" of one JSON object
// without decoding anything else and without allocating: with 10,000
// connections on the gateway's own 2 CPUs, the load tool must cost as
// little per message as it can. Keys of nested objects are skipped, so a
// "seq" inside a tool input cannot be mistaken for the event's.
func Scan(b []byte) (Head, error) {
	var h Head
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return h, ErrSyntax
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return h, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return h, ErrSyntax
		}
		end := skipString(b, i)
		if end < 0 {
			return h, ErrSyntax
		}
		key := b[i+1 : end-1]
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return h, ErrSyntax
		}
		i = skipSpace(b, i+1)
		var ok bool
		switch string(key) { // no allocation: the compiler compares in place
		case "type":
			end = skipString(b, i)
			if end < 0 {
				return h, ErrSyntax
			}
			h.Type = b[i+1 : end-1]
		case "seq":
			var v int64
			v, end, ok = number(b, i)
			if !ok || v < 0 {
				return h, ErrSyntax
			}
			h.Seq = uint64(v)
		case "ts":
			h.TS, end, ok = number(b, i)
			if !ok {
				return h, ErrSyntax
			}
		default:
			end = skipValue(b, i)
			if end < 0 {
				return h, ErrSyntax
			}
		}
		i = skipSpace(b, end)
		if i >= len(b) {
			return h, ErrSyntax
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return h, nil
		default:
			return h, ErrSyntax
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i], or -1.
func skipString(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// skipValue returns the index after the value starting at b[i], or -1.
// Objects and arrays are skipped by depth, minding strings; scalars run to
// the next delimiter.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				if i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	default:
		start := i
		for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\n' && b[i] != '\t' && b[i] != '\r' {
			i++
		}
		if i == start {
			return -1
		}
		return i
	}
}

// number parses the JSON integer at b[i]; a fraction or exponent is refused,
// since seq and ts are integers.
func number(b []byte, i int) (v int64, end int, ok bool) {
	neg := i < len(b) && b[i] == '-'
	if neg {
		i++
	}
	start := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		if i-start >= 18 {
			return 0, i, false
		}
		v = v*10 + int64(b[i]-'0')
		i++
	}
	if i == start || (i < len(b) && (b[i] == '.' || b[i] == 'e' || b[i] == 'E')) {
		return 0, i, false
	}
	if neg {
		v = -v
	}
	return v, i, true
}
