package http

import "diminuendo/app"

// extensions are the Server's dependencies beyond New's arguments, set with
// the With* setters before Start.
type extensions struct {
	members *app.Members
	files   Files
}
