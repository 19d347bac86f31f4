package http

import (
	"sync"

	"github.com/diminuendo/diminuendo/app"
)

// extensions are the Server's dependencies beyond New's arguments, set with
// the With* setters before Start, and the bookkeeping of its event streams.
type extensions struct {
	members    *app.Members
	models     *app.Models
	agentTypes *app.AgentTypes
	files      Files
	sse        SSEConfig
	signIn     app.SignIn

	streamsMu     sync.Mutex
	streamsClosed bool
	streamsStop   chan struct{} // closed by endStreams
}
