// Package domain owns the gateway's pure rules: identities and permissions,
// the session state machine, client events and the upstream→client mapping,
// the replay window and the typed errors every transport maps to its wire codes.
// Nothing here performs I/O.
package domain
