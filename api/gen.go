// Package api holds the code generated from openapi.yaml: the Echo strict
// server interface, the models shared by REST and WebSocket, and the embedded
// spec. Never edit *.gen.go by hand; run `make generate`.
package api

//go:generate go tool -modfile=../tools/go.mod oapi-codegen -config server.cfg.yaml ../openapi.yaml
