package ws

import (
	"errors"
	"fmt"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/diminuendo/diminuendo/adapters/apiconv"
	"github.com/diminuendo/diminuendo/api"
	"github.com/diminuendo/diminuendo/domain"
)

// messageSchemas holds, per client message type, the schema openapi.yaml's
// ClientMessage union gives it, so a message is checked against the same
// contract the clients are generated from: a missing required field, a
// wrong type or a value out of range is INVALID_MESSAGE before any handler
// could serve it with a default.
type messageSchemas map[string]*openapi3.Schema

func loadMessageSchemas() (messageSchemas, error) {
	spec, err := api.GetSpec()
	if err != nil {
		return nil, err
	}
	union, ok := spec.Components.Schemas["ClientMessage"]
	if !ok || union.Value == nil || union.Value.Discriminator == nil {
		return nil, errors.New("openapi.yaml has no ClientMessage union")
	}
	out := messageSchemas{}
	for typ, ref := range union.Value.Discriminator.Mapping {
		name := strings.TrimPrefix(ref.Ref, "#/components/schemas/")
		s, ok := spec.Components.Schemas[name]
		if !ok || s.Value == nil {
			return nil, fmt.Errorf("ClientMessage maps %s to a missing schema %s", typ, name)
		}
		out[typ] = s.Value
	}
	return out, nil
}

// check validates v, a decoded JSON object of message type typ. A type
// without a schema passes: the dispatcher refuses unknown types itself.
func (ms messageSchemas) check(typ string, v any) error {
	s, ok := ms[typ]
	if !ok {
		return nil
	}
	if err := s.VisitJSON(v); err != nil {
		return domain.E(domain.KindInvalidMessage, typ+": "+schemaReason(err))
	}
	if key := apiconv.CaseVariantKey(s, v); key != "" {
		return domain.E(domain.KindInvalidMessage, typ+": "+key+": field names are case-sensitive")
	}
	return nil
}

// schemaReason says which field is wrong and why, in one short line; the
// value itself is not repeated, as it may be large or hostile.
func schemaReason(err error) string {
	var se *openapi3.SchemaError
	if !errors.As(err, &se) {
		return "the message does not match its schema"
	}
	field := strings.Join(se.JSONPointer(), ".")
	reason := se.Reason
	if len(reason) > 200 {
		reason = reason[:200]
	}
	if field == "" {
		return reason
	}
	return field + ": " + reason
}
