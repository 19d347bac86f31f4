// Package client is a Go client of the Diminuendo gateway's WebSocket
// protocol (docs/protocol.md).
//
// Dial connects, authenticates with a token source and keeps the connection
// up: when it drops, the client reconnects with jittered exponential
// backoff and re-joins every session it had joined with afterSeq and epoch,
// so the gateway replays exactly what was missed. Sequenced events are
// delivered once and in order: a seq already delivered is dropped.
//
//	c, err := client.Dial(ctx, client.Options{URL: "ws://127.0.0.1:8080/ws", TokenSource: tokens})
//	if err != nil { … }
//	defer c.Close()
//	s, err := c.CreateSession(ctx, client.NewSession{AgentType: "echo"})
//	snap, err := c.Join(ctx, s.Id)
//	err = c.RunTurn(ctx, s.Id, "hello", "")
//	for ev := range c.Events() {
//		if ev.Type == client.TypeTurnComplete { break }
//	}
//
// An Event carries a frame's routing fields and its JSON; Value decodes it
// into its type in the api package, generated from openapi.yaml like the
// gateway's own frames:
//
//	v, _ := ev.Value()
//	if p, ok := v.(api.PermissionRequestedEvent); ok {
//		err = c.Approve(ctx, p.SessionId, p.PromptId)
//	}
//
// Requests (CreateSession, Join, GetEvents…) carry a requestId and return
// the gateway's reply; an error frame becomes an *Error with the gateway's
// code. Messages the gateway does not answer on success (RunTurn, StopTurn,
// Answer) are followed by a ping, so that they too return the gateway's
// refusal, if any, before the call returns.
//
// # Rebuilding after an incomplete replay
//
// A join, or a re-join after a reconnect, is answered by a state_snapshot.
// When its replayComplete is false the gateway could not replay what the
// client missed (too far behind, or the session's epoch changed): nothing
// was replayed and live events continue after snapshot.latestSeq. The
// snapshot is delivered on Events like any frame (Event.ReplayIncomplete
// tells it apart); the application then fills the gap with GetEvents from
// its last seq when the epoch is unchanged, or rebuilds from GetHistory
// when it changed.
package client
