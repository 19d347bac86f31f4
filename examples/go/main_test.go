package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/diminuendo/diminuendo/gatewaytest"
)

// The example's turn against an in-process gateway with real RS256 tokens.
func TestRunAgainstGateway(t *testing.T) {
	gw := gatewaytest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	final, err := Run(ctx, &out, gw.URL, gw.TokenSource(gatewaytest.User("example-user")), "echo", "hello from Go")
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if final != "hello from Go" || !bytes.HasPrefix(out.Bytes(), []byte("hello from Go\n[turn_1, complete]")) {
		t.Fatalf("final %q, output %q", final, out.String())
	}
}
