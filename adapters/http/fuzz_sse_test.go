package http_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/diminuendo/diminuendo/app/config"
	"github.com/diminuendo/diminuendo/gatewaytest"
	"github.com/diminuendo/diminuendo/internal/syncbuf"
)

// FuzzLastEventID opens a session's event stream with the input as its
// Last-Event-ID header and/or afterSeq query parameter (flags bit 0 sends
// the header, bit 1 the parameter), against a whole gateway in dev mode
// whose session holds a finished turn, and checks:
//   - the request is accepted exactly when each cursor sent is one integer
//     of at least 0 (strconv.ParseInt's decimal, with the blanks a header
//     may carry): an afterSeq sent beside the header must be one too, even
//     though the header's value wins; anything else is 400
//     INVALID_MESSAGE, never another status;
//   - the header wins over afterSeq;
//   - an accepted stream starts with state_snapshot, and its first
//     sequenced event is the one right after the cursor;
//   - the gateway logs no error.
func FuzzLastEventID(f *testing.F) {
	for _, s := range []string{"0", "1", "3", "18", "007", "+2", "-1", "", " 2 ", "\t2", "1.0", "1e2", "0x10", "9223372036854775807",
		"9223372036854775808", "-0", "２", "1_000", "１", "2 3", "nan"} {
		f.Add(s, "1", uint8(1))
		f.Add("1", s, uint8(2))
		f.Add(s, "5", uint8(3))
	}

	errLog := &syncbuf.Buffer{}
	gw := gatewaytest.Start(f, gatewaytest.WithDevMode(),
		gatewaytest.WithLogger(slog.New(slog.NewTextHandler(errLog, &slog.HandlerOptions{Level: slog.LevelError}))),
		gatewaytest.WithConfig(func(c *config.Config) {
			c.RESTRateWindow = time.Nanosecond
			// Streams the fuzzer closed may linger a moment server side.
			c.SessionMaxSubscribers, c.SessionMaxSubscribersPerUser = 1<<16, 1<<16
		}))
	client := &http.Client{Timeout: 30 * time.Second}
	sessionID := createSession(f, client, gw.URL)
	latest := finishTurn(f, client, gw.URL, sessionID)

	f.Fuzz(func(t *testing.T, header, query string, flags uint8) {
		sendHeader, sendQuery := flags&1 != 0, flags&2 != 0
		// net/http refuses to send a header value with these bytes; the
		// server could never see them.
		if sendHeader && strings.ContainsAny(header, "\r\n\x00") || !sendHeader && !sendQuery {
			t.Skip()
		}
		u := gw.URL + "/api/sessions/" + sessionID + "/events/stream"
		if sendQuery {
			u += "?afterSeq=" + url.QueryEscape(query)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		if sendHeader {
			req.Header.Set("Last-Event-ID", header)
		}
		resp, err := client.Do(req)
		if err != nil {
			if sendHeader && !validHeaderValue(header) {
				t.Skip() // the client refused to send it
			}
			t.Fatalf("GET %s: %v", u, err)
		}
		defer resp.Body.Close()

		// What was sent, as the server received it: a header loses its
		// leading and trailing blanks on the way.
		parse := func(s string) (int64, bool) {
			n, err := strconv.ParseInt(s, 10, 64)
			return n, err == nil && n >= 0
		}
		cursor, want, ok := query, int64(0), true
		if sendQuery {
			want, ok = parse(query)
		}
		if sendHeader {
			var hok bool
			cursor = strings.Trim(header, " \t")
			want, hok = parse(cursor)
			ok = ok && hok
		}
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
			if ok {
				t.Fatalf("cursor %q (header %v, query %q) refused: %d %s", cursor, sendHeader, query, resp.StatusCode, b)
			}
			var body struct {
				Error struct{ Code string } `json:"error"`
			}
			if resp.StatusCode != http.StatusBadRequest || json.Unmarshal(b, &body) != nil || body.Error.Code != "INVALID_MESSAGE" {
				t.Fatalf("cursor %q: want 400 INVALID_MESSAGE, got %d %s", cursor, resp.StatusCode, b)
			}
		} else {
			if !ok {
				t.Fatalf("cursor %q (header %v, query %q) is not an integer of at least 0, yet the stream opened", cursor, sendHeader, query)
			}
			events := readSSE(t, resp.Body, want < latest)
			if events[0].event != "state_snapshot" {
				t.Fatalf("the stream starts with %q, want state_snapshot", events[0].event)
			}
			if want < latest {
				if len(events) < 2 || events[1].id != want+1 {
					t.Fatalf("cursor %d: the first event after the snapshot is %+v, want id %d", want, events[1:], want+1)
				}
			}
		}
		if errLog.Len() > 0 {
			t.Fatalf("the gateway logged an error for %q / %q:\n%s", header, query, errLog.String())
		}
	})
}

type sseEvent struct {
	id    int64 // 0: none
	event string
}

// readSSE reads the snapshot and, when more is true, the next sequenced event.
func readSSE(t *testing.T, r io.Reader, more bool) []sseEvent {
	t.Helper()
	var out []sseEvent
	var cur sseEvent
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.event == "" {
				continue
			}
			out = append(out, cur)
			if !more || cur.id != 0 {
				return out
			}
			cur = sseEvent{}
		case strings.HasPrefix(line, "id: "):
			n, err := strconv.ParseInt(line[4:], 10, 64)
			if err != nil {
				t.Fatalf("an id that is no seq: %q", line)
			}
			cur.id = n
		case strings.HasPrefix(line, "event: "):
			cur.event = line[7:]
		}
	}
	if len(out) == 0 {
		t.Fatalf("the stream ended before its snapshot: %v", sc.Err())
	}
	t.Fatalf("the stream ended after %+v: %v", out, sc.Err())
	return nil
}

// validHeaderValue is what net/http's client agrees to send.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if b := v[i]; b < 0x20 && b != '\t' || b == 0x7f {
			return false
		}
	}
	return true
}

// finishTurn runs one turn of the echo agent and returns the session's
// last seq once the turn is complete.
func finishTurn(tb testing.TB, client *http.Client, base, sessionID string) int64 {
	tb.Helper()
	resp, err := client.Post(base+"/api/sessions/"+sessionID+"/turns", "application/json", strings.NewReader(`{"text":"hello"}`))
	if err != nil {
		tb.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		tb.Fatalf("run a turn: %d", resp.StatusCode)
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := client.Get(base + "/api/sessions/" + sessionID + "/events?afterSeq=0&limit=1000")
		if err != nil {
			tb.Fatal(err)
		}
		var page struct {
			Events []struct {
				Seq  int64  `json:"seq"`
				Type string `json:"type"`
			} `json:"events"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		_ = resp.Body.Close()
		if err != nil {
			tb.Fatal(err)
		}
		if n := len(page.Events); n > 2 && page.Events[n-1].Type == "turn_complete" {
			return page.Events[n-1].Seq
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatal("the turn did not complete")
	return 0
}
