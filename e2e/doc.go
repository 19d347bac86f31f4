// Package e2e holds end-to-end tests: the whole fx graph on a real loopback
// listener, the embedded simulators behind the real adapters, and real
// WebSocket and HTTP clients in front.
package e2e
