// Package upstream is the JSON-over-HTTP caller the gateway's upstream
// adapters (podium, unison, ensemble) share: one exchange with a bearer key,
// a timeout per attempt, retries with jittered exponential backoff, one
// circuit breaker per service, and the one mapping from an upstream's
// answers to domain errors.
//
// What differs between the services is configuration (names, figures,
// whether Retry-After is honoured) or a decision of the adapter per call:
// whether the call may be repeated, and what a refusal such as 404 or 409
// means to it. The policies themselves are written down in
// docs/upstreams.md.
package upstream
