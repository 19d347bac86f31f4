package domain

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
)

// A small JSON reader for the per-event path. It validates as strictly as
// encoding/json and reports spans of the raw input instead of building
// values, so a streamed frame is read without a map or an allocation. Any
// input it is not sure about is reported !ok and the caller takes the
// generic encoding/json path, which stays the reference.

// maxScanDepth bounds nesting; deeper input goes the generic way.
const maxScanDepth = 64

// kind is the JSON kind of a scanned value.
type kind uint8

const (
	kindNone kind = iota
	kindString
	kindNumber
	kindNull
	kindOther // true, false, object, array
)

// span is one scanned value: raw[start:end] is its text (for a string,
// without the quotes) and esc says a string holds a backslash escape.
// asIs says a string is all htmlSafe ASCII, which json.Marshal writes as
// it stands; only the long string scan tells, false is "not known".
type span struct {
	start, end int
	kind       kind
	esc        bool
	asIs       bool
}

// skipWS returns the index of the first byte at or after b[i] that is not
// JSON whitespace. Every byte that ends a run of it in valid JSON is above
// ' ', so one compare settles the common case.
func skipWS(b []byte, i int) int {
	for i < len(b) && b[i] <= ' ' && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainByte marks the bytes a JSON string holds as they are: not the quote,
// the backslash or a control character.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// htmlSafeByte is encoding/json's htmlSafeSet: printable ASCII but for the
// quote, the backslash and <, >, &.
var htmlSafeByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// scanString reads the string starting at b[i] == '"'. It returns the
// index after the closing quote.
func scanString(b []byte, i int) (sp span, next int, ok bool) {
	if k := shortString(b, i+1); k >= 0 {
		return span{start: i + 1, end: k, kind: kindString}, k + 1, true
	}
	return scanLongString(b, i)
}

// shortString is the case of most strings of a frame (its keys, ids and
// types): the string whose text starts at b[j] ends within one word, with
// nothing to unescape. It returns the index of the closing quote, or -1
// for any other string (or none). Small enough to inline, so the readers
// call it before scanString.
func shortString(b []byte, j int) int {
	if j+8 > len(b) {
		return -1
	}
	if m, q := specialMasks(binary.LittleEndian.Uint64(b[j:])); m&-m&q != 0 {
		return j + bits.TrailingZeros64(m)>>3
	}
	return -1
}

// scanLongString is scanString past its one-word case.
func scanLongString(b []byte, i int) (sp span, next int, ok bool) {
	next = scanStringInto(b, i, &sp)
	return sp, max(next, 0), next >= 0
}

// scanStringInto is scanString writing the span to *sp (wholly, on
// success) and returning the index after the closing quote, or -1.
func scanStringInto(b []byte, i int, sp *span) int {
	i++
	start, esc := i, false
	// The bytes json.Marshal would not write as they stand, gathered off
	// the loop's critical path, so a text written out needs no second
	// pass when it has none.
	var unsafe uint64
	for i < len(b) {
		// Eight bytes at a time: streamed text is mostly runs of plain
		// bytes, and the word test gives the first special byte's place.
		if i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			m, q := specialMasks(x)
			if m == 0 {
				unsafe |= htmlMask(x)
				i += 8
				continue
			}
			tz := bits.TrailingZeros64(m)
			unsafe |= htmlMask(x) & (1<<(tz&^7) - 1) // the bytes before it
			if i += tz >> 3; m&-m&q != 0 {
				// The closing quote, told without loading it again.
				*sp = span{start: start, end: i, kind: kindString, esc: esc, asIs: unsafe == 0 && !esc}
				return i + 1
			}
		} else {
			for i < len(b) && plainByte[b[i]] {
				if !htmlSafeByte[b[i]] {
					unsafe = 1
				}
				i++
			}
			if i >= len(b) {
				break
			}
		}
		switch c := b[i]; {
		case c == '"':
			*sp = span{start: start, end: i, kind: kindString, esc: esc, asIs: unsafe == 0 && !esc}
			return i + 1
		case c == '\\':
			esc = true
			if i+1 >= len(b) {
				return -1
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex4(b[i+2:i+6]) {
					return -1
				}
				i += 6
			default:
				return -1
			}
		default: // a control character
			return -1
		}
	}
	return -1
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// specialMasks returns m, the high bit of each of the eight bytes of x
// that is '"', '\\' or below 0x20, and maybe of bytes after such a byte:
// its lowest set bit is exact. Each term is the classic "has a byte below
// n" test; the constants have no high bit, so x's high bits stand for
// those of x^c. A borrow only runs upward from a byte that matched, so no
// false bit falls below the first true one. q is the quote term alone
// (before the mask): the first special byte is a quote when m's lowest bit
// is set in q, whose lowest bit is exact too.
func specialMasks(x uint64) (m, q uint64) {
	q = x ^ (ones * '"') - ones
	return ((x - ones*0x20) | q | (x ^ (ones * '\\') - ones)) &^ x & highs, q
}

// unsafeMask is specialMasks' m for the bytes that are not htmlSafe; its
// lowest set bit is exact likewise.
func unsafeMask(x uint64) uint64 {
	return x&highs | ((x-ones*0x20)|
		(x^(ones*'"')-ones)|(x^(ones*'\\')-ones)|
		(x^(ones*'<')-ones)|(x^(ones*'>')-ones)|(x^(ones*'&')-ones))&^x&highs
}

// htmlMask is unsafeMask for bytes known not to be special (before the
// first special byte of a string): it flags bytes from 0x80 and '<', '>'
// (one test: 0x3C and 0x3E differ in bit 1 only) and '&'. A false bit lies
// only above a true one, so it is exact as to whether any byte is flagged.
func htmlMask(x uint64) uint64 {
	return x&highs | ((x|ones*2)^(ones*'>')-ones|(x^(ones*'&')-ones))&^x&highs
}

// hasUnsafe says one of the eight bytes of x is not htmlSafe.
func hasUnsafe(x uint64) bool { return unsafeMask(x) != 0 }

func isHex4(b []byte) bool {
	for _, c := range b[:4] {
		if hexVal(c) < 0 {
			return false
		}
	}
	return true
}

func hexVal(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}

// scanNumber reads a JSON number at b[i].
func scanNumber(b []byte, i int) (next int, ok bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return 0, false
	}
	switch {
	case b[i] == '0':
		i++
	case '1' <= b[i] && b[i] <= '9':
		i = digitRun(b, i+1)
	default:
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0, false
		}
	}
	return i, true
}

// digitRun returns the index of the first byte at or after b[i] that is
// not an ASCII digit, eight bytes at a time (a timestamp is 13 digits).
func digitRun(b []byte, i int) int {
	for i+8 <= len(b) {
		x := binary.LittleEndian.Uint64(b[i:])
		// Per byte c below 0x80, c+0x50 has its high bit from '0' up and
		// c+0x46 from '9'+1 up; neither carries into the next byte. A byte
		// from 0x80 up is flagged by its own high bit.
		y := x &^ highs
		if nd := (x | ^(y + ones*(0x80-'0')) | (y + ones*(0x80-'9'-1))) & highs; nd != 0 {
			return i + bits.TrailingZeros64(nd)>>3
		}
		i += 8
	}
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}

// scanValue reads any JSON value at b[i] (no leading space).
func scanValue(b []byte, i, depth int) (sp span, next int, ok bool) {
	if i >= len(b) {
		return sp, 0, false
	}
	sp.start = i
	switch c := b[i]; {
	case c == '"':
		return scanString(b, i)
	case c == '-' || ('0' <= c && c <= '9'):
		next, ok = scanNumber(b, i)
		sp.end, sp.kind = next, kindNumber
		return sp, next, ok
	case c == 'n':
		return literal(b, i, "null", kindNull)
	case c == 't':
		return literal(b, i, "true", kindOther)
	case c == 'f':
		return literal(b, i, "false", kindOther)
	case c == '{' || c == '[':
		if depth >= maxScanDepth {
			return sp, 0, false
		}
		next, ok = scanComposite(b, i, depth+1)
		sp.end, sp.kind = next, kindOther
		return sp, next, ok
	}
	return sp, 0, false
}

func literal(b []byte, i int, lit string, k kind) (span, int, bool) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return span{}, 0, false
	}
	return span{start: i, end: i + len(lit), kind: k}, i + len(lit), true
}

// scanComposite skips an object or array starting at b[i].
func scanComposite(b []byte, i, depth int) (int, bool) {
	obj := b[i] == '{'
	closer := byte(']')
	if obj {
		closer = '}'
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == closer {
		return i + 1, true
	}
	for {
		if obj {
			if i >= len(b) || b[i] != '"' {
				return 0, false
			}
			var ok bool
			if _, i, ok = scanString(b, i); !ok {
				return 0, false
			}
			i = skipWS(b, i)
			if i >= len(b) || b[i] != ':' {
				return 0, false
			}
			i = skipWS(b, i+1)
		}
		var ok bool
		if _, i, ok = scanValue(b, i, depth); !ok {
			return 0, false
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return 0, false
		}
		if b[i] == closer {
			return i + 1, true
		}
		if b[i] != ',' {
			return 0, false
		}
		i = skipWS(b, i+1)
	}
}

// openObject reads the '{' at b[i] and the space after it; more says a
// member follows (else next is past the '}').
func openObject(b []byte, i int) (next int, more, ok bool) {
	if i >= len(b) || b[i] != '{' {
		return 0, false, false
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, false, true
	}
	return i, true, true
}

// memberKey reads `"key" :` at b[i] and the space after it.
func memberKey(b []byte, i int) (key span, next int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return key, 0, false
	}
	if key, i, ok = scanString(b, i); !ok {
		return key, 0, false
	}
	i = skipWS(b, i)
	if i >= len(b) || b[i] != ':' {
		return key, 0, false
	}
	return key, skipWS(b, i+1), true
}

// memberEnd reads the space and the ',' or '}' after a member's value;
// more says another member follows.
func memberEnd(b []byte, i int) (next int, more, ok bool) {
	i = skipWS(b, i)
	if i >= len(b) {
		return 0, false, false
	}
	switch b[i] {
	case '}':
		return i + 1, false, true
	case ',':
		return skipWS(b, i+1), true, true
	}
	return 0, false, false
}

// objectMembers calls fn for each member of the object at b[i] == '{' with
// the key's span and the value's span; fn returning false stops with !ok.
// Values are scanned (and so validated) whole.
func objectMembers(b []byte, i, depth int, fn func(key, val span) bool) (int, bool) {
	i, more, ok := openObject(b, i)
	for ok && more {
		var key, val span
		if key, i, ok = memberKey(b, i); !ok {
			return 0, false
		}
		if val, i, ok = scanValue(b, i, depth); !ok || !fn(key, val) {
			return 0, false
		}
		i, more, ok = memberEnd(b, i)
	}
	return i, ok
}

const hexDigits = "0123456789abcdef"

// appendQuoted appends the JSON string that encoding/json writes for the
// string raw denotes, where raw is the text between the quotes of a scanned
// JSON string: escapes are decoded the way json.Unmarshal decodes them
// (a lone surrogate and invalid UTF-8 become U+FFFD), then written the way
// json.Marshal writes them (HTML-safe, U+2028 and U+2029 escaped).
func appendQuoted(dst, raw []byte) []byte { return appendQuotedIn(dst, raw, 0, len(raw)) }

// appendQuotedIn is appendQuoted of b[start:end]. It reads words up to
// len(b), so a short string inside a frame (an id) is tested as one word
// with the bytes after it masked off.
func appendQuotedIn(dst, b []byte, start, end int) []byte {
	dst = append(dst, '"')
	for i := start; i < end; {
		// Runs of safe ASCII are copied whole; the word test places the
		// first byte that needs a look.
		if i+8 <= len(b) {
			m := unsafeMask(binary.LittleEndian.Uint64(b[i:]))
			if n := end - i; n < 8 {
				m &= 1<<(8*n) - 1
			}
			if m == 0 {
				i = min(i+8, end)
				continue
			}
			i += bits.TrailingZeros64(m) >> 3
		} else if htmlSafe(b[i]) {
			i++
			continue
		}
		c := b[i]
		if c < utf8.RuneSelf {
			dst = append(dst, b[start:i]...)
			if c == '\\' {
				r, n := unescape(b[i:end])
				dst = appendRune(dst, r)
				i += n
			} else {
				dst = appendASCII(dst, c)
				i++
			}
			start = i
			continue
		}
		r, size := utf8.DecodeRune(b[i:end])
		switch {
		case r == utf8.RuneError && size == 1:
			// json.Unmarshal stores U+FFFD, which json.Marshal writes as is.
			dst = append(dst, b[start:i]...)
			dst = utf8.AppendRune(dst, utf8.RuneError)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, b[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, b[start:end]...)
	return append(dst, '"')
}

// appendString appends s as json.Marshal writes a Go string.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) && !hasUnsafe(uint64(s[i])|uint64(s[i+1])<<8|uint64(s[i+2])<<16|uint64(s[i+3])<<24|
			uint64(s[i+4])<<32|uint64(s[i+5])<<40|uint64(s[i+6])<<48|uint64(s[i+7])<<56) {
			i += 8
			continue
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if htmlSafe(c) {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = appendASCII(dst, c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

func htmlSafe(c byte) bool { return htmlSafeByte[c] }

// appendASCII writes one ASCII character that is not htmlSafe.
func appendASCII(dst []byte, c byte) []byte {
	switch c {
	case '\\', '"':
		return append(dst, '\\', c)
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	return append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
}

// appendRune writes a decoded rune as json.Marshal would.
func appendRune(dst []byte, r rune) []byte {
	switch {
	case r < utf8.RuneSelf && htmlSafe(byte(r)):
		return append(dst, byte(r))
	case r < utf8.RuneSelf:
		return appendASCII(dst, byte(r))
	case r == '\u2028' || r == '\u2029':
		return append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
	}
	return utf8.AppendRune(dst, r)
}

// unescape decodes the escape at raw[0] == '\\' (already validated) as
// json.Unmarshal does, returning the rune and the bytes consumed.
func unescape(raw []byte) (rune, int) {
	switch raw[1] {
	case 'b':
		return '\b', 2
	case 'f':
		return '\f', 2
	case 'n':
		return '\n', 2
	case 'r':
		return '\r', 2
	case 't':
		return '\t', 2
	case 'u':
		r := hex4(raw[2:6])
		if !utf16.IsSurrogate(r) {
			return r, 6
		}
		if len(raw) >= 12 && raw[6] == '\\' && raw[7] == 'u' && isHex4(raw[8:12]) {
			if dec := utf16.DecodeRune(r, hex4(raw[8:12])); dec != utf8.RuneError {
				return dec, 12
			}
		}
		return utf8.RuneError, 6
	}
	return rune(raw[1]), 2 // '"', '\\', '/'
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		r = r<<4 | rune(hexVal(c))
	}
	return r
}

// unquote returns the Go string a scanned JSON string denotes, as
// json.Unmarshal decodes it.
func unquote(raw []byte) string {
	plain := true
	for _, c := range raw {
		if c == '\\' || c >= utf8.RuneSelf {
			plain = false
			break
		}
	}
	if plain {
		return string(raw)
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '\\':
			r, n := unescape(raw[i:])
			out = utf8.AppendRune(out, r)
			i += n
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(raw[i:])
			out = utf8.AppendRune(out, r)
			i += size
		}
	}
	return string(out)
}
