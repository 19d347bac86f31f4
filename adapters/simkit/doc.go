// Package simkit is the scaffolding the upstream simulators (podiumsim,
// unisonsim, ensemblesim) share: the fault knobs, a loopback-only server,
// the bearer-key check and the {"error":{"code","message"}} writer. Each
// simulator keeps its own wire, and decides which of its routes each knob
// reaches (docs/upstreams.md, Running the simulators).
package simkit
