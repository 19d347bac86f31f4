package auth

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// members collects eachMember's view of b as encoding/json's would be: the
// last value of each key, compacted.
func members(b []byte) (map[string]string, error) {
	out := map[string]string{}
	err := eachMember(b, func(key string, raw []byte) {
		var c bytes.Buffer
		if json.Compact(&c, raw) != nil {
			c.Reset()
			c.WriteString("!invalid:" + string(raw))
		}
		out[key] = c.String()
	})
	return out, err
}

// viaEncodingJSON is the reference: encoding/json's reading of a valid
// object.
func viaEncodingJSON(b []byte) (map[string]string, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil || m == nil {
		return nil, false
	}
	out := map[string]string{}
	for k, v := range m {
		var c bytes.Buffer
		if json.Compact(&c, v) != nil {
			return nil, false
		}
		out[k] = c.String()
	}
	return out, true
}

var memberSeeds = []string{
	`{}`, ` { } `, `{"a":1}`, `{"a":"x","b":[1,{"c":"]}"}],"d":null,"e":true}`,
	`{"iss":"https://x/","aud":["a","b"],"exp":1.7e9,"nbf":-1,"sub":"a\"b\\c\u00e9"}`,
	`{"a":1,"a":2}`, `{"\u0061":"escaped key"}`, `{"s":"tab\tin string"}`, "{\"s\":\"\xff\"}",
	`{"a":{"b":{"c":[[[]]]}}}`, `{"a":"}"}`,
	// malformed
	``, `[]`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":1}x`, `{"a":"unterminated}`, `{"a":[1,2}`, `{a:1}`,
	`{"a":1 "b":2}`, `{"a":{"b":1}`, `"str"`, `null`,
}

func TestEachMemberReadsObjectsAsEncodingJSONDoes(t *testing.T) {
	for _, s := range memberSeeds {
		want, valid := viaEncodingJSON([]byte(s))
		got, err := members([]byte(s))
		if valid {
			require.NoError(t, err, "%q", s)
			require.Equal(t, want, got, "%q", s)
		} else if err == nil {
			// Only nested values are delimited without being checked;
			// the object's own structure never passes when invalid.
			require.Contains(t, fmtValues(got), "!invalid:", "%q accepted", s)
		}
	}
}

func fmtValues(m map[string]string) string {
	var b bytes.Buffer
	for _, v := range m {
		b.WriteString(v)
	}
	return b.String()
}

func TestDecoders(t *testing.T) {
	for raw, want := range map[string]string{`"abc"`: "abc", `"a\"b"`: `a"b`, `"\u00e9"`: "é", `""`: ""} {
		got, ok := decodeString([]byte(raw))
		require.True(t, ok, raw)
		require.Equal(t, want, got)
	}
	for _, bad := range []string{`abc`, `"abc`, `1`, "\"a\tb\"", `"\x"`, `[]`} {
		_, ok := decodeString([]byte(bad))
		require.False(t, ok, bad)
	}
	for raw, want := range map[string]bool{`"RS256"`: true, `"RS\u003256"`: true, `"rs256"`: false, `"RS256 "`: false, `RS256`: false, `"RS256`: false, `["RS256"]`: false} {
		require.Equal(t, want, stringIs([]byte(raw), "RS256"), raw)
	}
	require.True(t, stringIs([]byte(`"a\\b"`), `a\b`), "an escaped backslash is a backslash")
	require.False(t, stringIs([]byte(`"a\b"`), `a\b`), "an invalid escape is no string")
	for raw, want := range map[string]int64{`0`: 0, `1700000000`: 1700000000, `1.7e9`: 1700000000, `-5`: -5, `12.9`: 12} {
		got, ok := decodeNumericDate([]byte(raw))
		require.True(t, ok, raw)
		require.Equal(t, want, got)
	}
	for _, bad := range []string{`"1"`, `0x10`, `Inf`, `NaN`, `1_0`, `01`, `1.`, `.5`, `1e`, `-`, `1e300`, `true`} {
		_, ok := decodeNumericDate([]byte(bad))
		require.False(t, ok, bad)
	}
}

// FuzzEachMember: never a panic, and on any valid JSON object the same
// members as encoding/json.
func FuzzEachMember(f *testing.F) {
	for _, s := range memberSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := members(b)
		if want, valid := viaEncodingJSON(b); valid {
			if err != nil {
				t.Fatalf("%q: %v", b, err)
			}
			if len(got) != len(want) {
				t.Fatalf("%q: got %v, want %v", b, got, want)
			}
			for k, v := range want {
				if got[k] != v {
					t.Fatalf("%q: member %q is %q, want %q", b, k, got[k], v)
				}
			}
		}
	})
}
