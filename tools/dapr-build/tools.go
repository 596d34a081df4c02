//go:build tools

// Package daprbuild only pins the Dapr runtime's main packages so `go build` can build them from this module.
package daprbuild

import (
	_ "github.com/dapr/dapr/cmd/daprd"
	_ "github.com/dapr/dapr/cmd/sentry"
)
