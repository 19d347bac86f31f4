// Package app holds the gateway's use cases (sessions, turns, prompts,
// events, health) and the hub that sequences each session's events and fans
// them out to every attached connection. It depends only on domain and ports;
// both front doors (WebSocket and REST) call the same use cases.
package app
