// Package acp is the Agent Client Protocol front door: GET /acp upgrades to
// a WebSocket speaking ACP v1 (JSON-RPC 2.0, one message per text frame) and
// drives the same app use cases as the ws and http adapters. Editors (Zed,
// JetBrains, Neovim plugins) and headless runners reach it directly or
// through cmd/diminuendo-acp, which bridges their stdio to this endpoint.
//
// Nothing about sessions is decided here: an ACP session is a platform
// session, a prompt is a turn, and the session's sequenced events are
// translated to session/update notifications by the table in mapping.go.
package acp
