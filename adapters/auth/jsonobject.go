package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
)

var errNotObject = errors.New("not a JSON object")

// eachMember calls fn with the key and raw value of every member of the
// JSON object b, in order; a key given twice is reported twice, so a caller
// keeping the last one sees what encoding/json would. It reads a token's
// header and claims in one pass with no reflection and no map. Values are
// only delimited here (strings, nesting), never checked: a caller decodes
// the few it reads with the decoders below, which are strict. Any malformed
// input returns errNotObject; nothing panics and nothing recurses.
func eachMember(b []byte, fn func(key string, raw []byte)) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return errNotObject
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return trailingSpaceOnly(b, i+1)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return errNotObject
		}
		end, ok := stringEnd(b, i)
		if !ok {
			return errNotObject
		}
		key, ok := decodeString(b[i:end])
		if !ok {
			return errNotObject
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return errNotObject
		}
		i = skipSpace(b, i+1)
		vend, ok := valueEnd(b, i)
		if !ok {
			return errNotObject
		}
		fn(key, b[i:vend])
		i = skipSpace(b, vend)
		if i >= len(b) {
			return errNotObject
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return trailingSpaceOnly(b, i+1)
		default:
			return errNotObject
		}
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

func trailingSpaceOnly(b []byte, i int) error {
	if skipSpace(b, i) != len(b) {
		return errNotObject
	}
	return nil
}

// stringEnd returns the index just past the string starting at b[i] == '"'.
func stringEnd(b []byte, i int) (int, bool) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++ // the escaped byte cannot end the string
		case '"':
			return j + 1, true
		}
	}
	return 0, false
}

// valueEnd returns the index just past the value starting at b[i]: a
// string, an object or array (brackets counted, strings skipped), or a
// literal or number running to the next delimiter.
func valueEnd(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, ok := stringEnd(b, j)
				if !ok {
					return 0, false
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, true
				}
			}
		}
		return 0, false
	default:
		j := i
		for j < len(b) && !isSpace(b[j]) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ':' {
			j++
		}
		return j, j > i
	}
}

// isNull reports whether raw is the literal null (an absent claim).
func isNull(raw []byte) bool { return string(raw) == "null" }

// decodeString decodes a JSON string. Printable ASCII without escapes, all
// an IdP writes for the claims read here, is copied as is; anything else
// goes through encoding/json, so escapes, control bytes and invalid UTF-8
// are handled exactly as it handles them. The result never shares memory
// with raw, so an identity does not keep the decoded token alive.
func decodeString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	if inner := raw[1 : len(raw)-1]; plainASCII(inner) {
		return string(inner), true
	}
	var s string
	if err := json.Unmarshal(bytes.Clone(raw), &s); err != nil {
		return "", false
	}
	return s, true
}

// stringIs reports whether raw is the JSON string want, without building
// a string for what is only compared (alg, iss, a single aud).
func stringIs(raw []byte, want string) bool {
	if len(raw) == len(want)+2 && raw[0] == '"' && raw[len(raw)-1] == '"' {
		inner := raw[1 : len(raw)-1]
		if string(inner) == want && plainASCII(inner) {
			return true
		}
	}
	s, ok := decodeString(raw)
	return ok && s == want
}

// plainASCII reports whether b, inside a JSON string, stands for itself:
// printable ASCII with no quote and no escape.
func plainASCII(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// decodeStrings decodes a JSON array of strings.
func decodeStrings(raw []byte) ([]string, bool) {
	if len(raw) == 0 || raw[0] != '[' {
		return nil, false
	}
	var out []string
	if err := json.Unmarshal(bytes.Clone(raw), &out); err != nil {
		return nil, false
	}
	return out, true
}

// maxNumericDate bounds the seconds of a time claim, far past any real
// expiry, so the conversion to an integer is exact.
const maxNumericDate = 1 << 40

// decodeNumericDate decodes a JWT NumericDate: a JSON number of seconds,
// possibly fractional (the fraction is dropped, as go-jose does).
func decodeNumericDate(raw []byte) (int64, bool) {
	if !jsonNumber(raw) {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || f > maxNumericDate || f < -maxNumericDate {
		return 0, false
	}
	return int64(f), true
}

// jsonNumber reports whether raw is a number by JSON's grammar, which
// strconv would widen with hex, underscores, Inf and NaN.
func jsonNumber(raw []byte) bool {
	i := 0
	if i < len(raw) && raw[i] == '-' {
		i++
	}
	digits := func() bool {
		start := i
		for i < len(raw) && raw[i] >= '0' && raw[i] <= '9' {
			i++
		}
		return i > start
	}
	switch {
	case i < len(raw) && raw[i] == '0':
		i++
	case !digits():
		return false
	}
	if i < len(raw) && raw[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(raw) && (raw[i] == 'e' || raw[i] == 'E') {
		i++
		if i < len(raw) && (raw[i] == '+' || raw[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	return i == len(raw)
}
