package podiumsim

import (
	"context"
	"time"

	"github.com/coder/websocket"
)

// SetLatency delays every request (REST and WebSocket upgrades) by d.
func (s *Sim) SetLatency(d time.Duration) { s.faults.SetLatency(d) }

// FailNext makes the next n REST requests (health aside) answer status with an error body
// instead of reaching the engine. WebSocket upgrades are not affected.
func (s *Sim) FailNext(n int, status int) { s.faults.FailNext(n, status) }

// RefuseConnections makes every request fail at the connection level (the
// connection is cut before any response), as an unreachable Podium would.
func (s *Sim) RefuseConnections(refuse bool) { s.faults.RefuseConnections(refuse) }

// DropStreams cuts every live WebSocket stream without a close handshake,
// as a network failure would.
func (s *Sim) DropStreams() {
	for _, c := range s.streams("") {
		c.CloseNow()
	}
}

// InjectFrame writes raw as a text frame to every live stream of the
// instance, outside its history: a way to send frames Podium never should.
// It returns the number of streams written to.
func (s *Sim) InjectFrame(instanceID string, raw []byte) int {
	n := 0
	for _, c := range s.streams(instanceID) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if c.Write(ctx, websocket.MessageText, raw) == nil {
			n++
		}
		cancel()
	}
	return n
}
