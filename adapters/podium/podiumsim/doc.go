// Package podiumsim simulates Podium, the agent runtime, the way
// net/http/httptest simulates a web server: an in-memory Engine of agent
// instances (scripted agents, sequenced event histories, per-session
// workspaces) and a Sim that serves the Engine over the HTTP/WebSocket wire
// the gateway's Podium adapter speaks (docs/upstreams.md).
//
// The real Podium documents neither history nor resume; the simulator
// implements the contract the gateway assumes, so tests, the in-memory fake
// and the embedded dev mode all exercise the same behaviour.
package podiumsim
