// Package k8s holds the gateway's Kubernetes manifests (a kustomize base
// and overlays) and the test that strictly decodes each of them into the
// Kubernetes API types and checks them against the gateway they deploy.
// It is a module of its own so the Kubernetes API packages stay out of the
// gateway's module.
package k8s
