//go:build tools

// Package kubebuild only pins the main packages of the test control plane (kube-apiserver, kubectl,
// etcd) so `go build` can build them from this module: see tools/kube/setup.ts.
package kubebuild

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
