// Package unison is the gateway's adapter to Unison, the platform's KV for
// tenant and resource metadata. It holds a small KV client over
// adapters/upstream (timeouts, retries of the calls that may repeat, one
// circuit breaker), the session registry and member store built on it, and
// a background health probe. The API it assumes is in docs/upstreams.md;
// unisonsim serves the same API for tests and the embedded dev mode.
package unison
