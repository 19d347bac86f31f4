package http

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"github.com/diminuendo/diminuendo/adapters/apiconv"
	"github.com/diminuendo/diminuendo/domain"
)

// requestSchemas maps "METHOD /echo/:route" to the JSON request body schema
// of every operation of the spec that takes one.
func requestSchemas(spec *openapi3.T) map[string]*openapi3.Schema {
	param := regexp.MustCompile(`\{([^}]+)\}`)
	out := map[string]*openapi3.Schema{}
	for path, item := range spec.Paths.Map() {
		route := param.ReplaceAllString(path, ":$1")
		for method, op := range item.Operations() {
			if op.RequestBody == nil || op.RequestBody.Value == nil {
				continue
			}
			if mt := op.RequestBody.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil {
				out[strings.ToUpper(method)+" "+route] = mt.Schema.Value
			}
		}
	}
	return out
}

// exactKeys refuses, after the validator passed it, a JSON body holding a
// key that equals a field of its schema only when case is ignored. The
// validator reads keys exactly and the handlers' decoder does not, so
// {"name":"ok","NAME":"..."} would be checked as one value and served as
// the other.
func exactKeys(schemas map[string]*openapi3.Schema) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			s := schemas[r.Method+" "+c.Path()]
			if s == nil || r.Body == nil || r.Body == http.NoBody {
				return next(c)
			}
			// Bounded by the body limit; the validator has read it already.
			body, err := io.ReadAll(r.Body)
			if err != nil {
				return err
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			var v any
			if json.Unmarshal(body, &v) == nil {
				if key := apiconv.CaseVariantKey(s, v); key != "" {
					return domain.E(domain.KindInvalidMessage, "request body: "+key+": field names are case-sensitive")
				}
			}
			return next(c)
		}
	}
}
