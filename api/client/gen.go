// Package apiclient is the Go client generated from openapi.yaml.
package apiclient

//go:generate go tool -modfile=../../tools/go.mod oapi-codegen -config client.cfg.yaml ../../openapi.yaml
