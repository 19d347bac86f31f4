package api_test

import (
	"context"
	"testing"
)

// The embedded contract is valid OpenAPI, so every tool that reads it
// (kin-openapi here, the TypeScript generator, clients' own) agrees on it.
func TestSpecIsValidOpenAPI(t *testing.T) {
	if err := loadSpec(t).Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
}
