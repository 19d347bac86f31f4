package apiconv

import (
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// CaseVariantKey finds, in v (a decoded JSON value checked against s), an
// object key that is not one of its schema's property names but equals one
// of them when case is ignored, and returns its dotted path ("" when there
// is none). Go's JSON decoder matches struct fields regardless of case, so
// such a key would reach a handler past the schema check that never saw it:
// {"limit":10,"LIMIT":1000000} passes a maximum on limit, then decodes as
// limit 1000000.
func CaseVariantKey(s *openapi3.Schema, v any) string {
	return caseVariant(s, v, "", 0)
}

// maxDepth bounds the walk; the validator has already bounded the value.
const maxDepth = 64

func caseVariant(s *openapi3.Schema, v any, path string, depth int) string {
	if s == nil || depth > maxDepth {
		return ""
	}
	switch x := v.(type) {
	case map[string]any:
		props := map[string]*openapi3.Schema{}
		collectProperties(s, props, 0)
		for k, val := range x {
			if ps, ok := props[k]; ok {
				if p := caseVariant(ps, val, path+k+".", depth+1); p != "" {
					return p
				}
				continue
			}
			for name := range props {
				if strings.EqualFold(k, name) {
					return path + k
				}
			}
			if ap := s.AdditionalProperties.Schema; ap != nil {
				if p := caseVariant(ap.Value, val, path+k+".", depth+1); p != "" {
					return p
				}
			}
		}
	case []any:
		if s.Items != nil {
			for _, item := range x {
				if p := caseVariant(s.Items.Value, item, path, depth+1); p != "" {
					return p
				}
			}
		}
	}
	return ""
}

// collectProperties gathers the property schemas of s and of the schemas it
// combines (allOf, oneOf, anyOf).
func collectProperties(s *openapi3.Schema, into map[string]*openapi3.Schema, depth int) {
	if s == nil || depth > maxDepth {
		return
	}
	for name, ref := range s.Properties {
		if ref != nil && into[name] == nil {
			into[name] = ref.Value
		}
	}
	for _, group := range []openapi3.SchemaRefs{s.AllOf, s.OneOf, s.AnyOf} {
		for _, ref := range group {
			if ref != nil {
				collectProperties(ref.Value, into, depth+1)
			}
		}
	}
}
