//go:build race

package e2e

// raceEnabled: the gateway binary is then built with -race too.
const raceEnabled = true
