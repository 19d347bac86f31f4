// Package contract holds the behaviour suites every adapter of a port must
// pass. Each suite is run against the in-memory fake and against the real
// adapter talking to its simulator, so the fakes the app tests rely on stay
// honest.
package contract
