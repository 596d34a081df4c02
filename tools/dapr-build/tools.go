//go:build tools

// Package daprbuild only pins the Dapr runtime's main packages so `go build` can build them from this module:
// daprd and sentry for the local runs and tests, the sidecar injector and the operator for the Kubernetes
// manifest tests (tools/kube), placement and the scheduler for the single-node cluster (tools/cluster).
package daprbuild

import (
	_ "github.com/dapr/dapr/cmd/daprd"
	_ "github.com/dapr/dapr/cmd/injector"
	_ "github.com/dapr/dapr/cmd/operator"
	_ "github.com/dapr/dapr/cmd/placement"
	_ "github.com/dapr/dapr/cmd/scheduler"
	_ "github.com/dapr/dapr/cmd/sentry"
)
