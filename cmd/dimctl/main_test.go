package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/diminuendo/diminuendo/gatewaytest"
)

func dimctl(t *testing.T, gw *gatewaytest.Gateway, c config, stdin string) (string, string) {
	t.Helper()
	c.url, c.token, c.after, c.timeout = gw.WSURL, gw.Token(), -1, 20*time.Second
	var out, errOut bytes.Buffer
	if err := run(c, strings.NewReader(stdin), &out, &errOut); err != nil {
		t.Fatalf("dimctl: %v\n%s%s", err, out.String(), errOut.String())
	}
	return out.String(), errOut.String()
}

// One turn, every frame printed: what the README shows.
func TestDimctlRunsATurn(t *testing.T) {
	gw := gatewaytest.Start(t)
	out, _ := dimctl(t, gw, config{agent: "echo", text: "hello there"}, "")
	for _, want := range []string{`< {"protocolVersion":1,"requiresAuth":true`, `> {"agentType":"echo","requestId":`, `"type":"create_session"}`,
		`"type":"state_snapshot"`, `"type":"run_turn"}`, `"text":"hello there"`, `"type":"turn_complete"`} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %s:\n%s", want, out)
		}
	}
}

// A permission prompt is answered from the terminal (y), or by -deny.
func TestDimctlAnswersPermissionPrompts(t *testing.T) {
	gw := gatewaytest.Start(t)
	out, errOut := dimctl(t, gw, config{agent: "guarded-agent", text: "note the plan"}, "y\n")
	if !strings.Contains(errOut, "allow write_file") || !strings.Contains(out, `"approved":true`) || !strings.Contains(out, `"type":"tool_result"`) {
		t.Fatalf("approve from the terminal:\n%s\n%s", errOut, out)
	}
	out, errOut = dimctl(t, gw, config{agent: "guarded-agent", text: "note the plan", deny: true}, "")
	if errOut != "" || !strings.Contains(out, `"approved":false`) || strings.Contains(out, `"type":"tool_result"`) {
		t.Fatalf("-deny:\n%s\n%s", errOut, out)
	}
}
