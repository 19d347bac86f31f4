// Package unisonsim is an in-process stand-in for Unison, the platform's
// config and resource-metadata KV. It speaks the REST API the unison adapter
// uses (docs/upstreams.md), keeps everything in memory, and has knobs
// for the failures the adapter must survive: latency, error bursts, writes
// whose response is lost, refused connections and a failing health check.
// Like net/http/httptest it serves tests, and the gateway embeds it when no
// UNISON_URL is configured.
package unisonsim
