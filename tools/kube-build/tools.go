//go:build tools

// Package kubebuild only pins the main packages of the Kubernetes binaries the project runs, so `go build`
// can build them from this module: etcd, kube-apiserver and kubectl for the loopback control plane of the
// manifest tests (tools/kube/setup.ts), and the node components of the single-node cluster (kubelet,
// kube-controller-manager, kube-scheduler, kube-proxy: tools/cluster/build.ts).
package kubebuild

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
