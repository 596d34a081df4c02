//go:build tools

// Package helmbuild only pins helm's main package so `go build` can build it from this module: see
// tools/cluster/build.ts.
package helmbuild

import (
	_ "helm.sh/helm/v3/cmd/helm"
)
