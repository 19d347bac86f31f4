// Package ensemblesim simulates Ensemble, the inference gateway, the way
// net/http/httptest simulates a web server, for the one part the gateway
// uses: the model catalog and the health route, over the REST wire written
// down in docs/upstreams.md. The catalog's JSON shape is our assumption:
// Ensemble documents the route, not its body. Fault knobs let tests make it
// slow, failing or unreachable.
package ensemblesim
