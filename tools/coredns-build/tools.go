//go:build tools

// Package corednsbuild only pins CoreDNS's main package (the root of its module) so `go build` can build it
// from this module: see tools/cluster/build.ts.
package corednsbuild

import (
	_ "github.com/coredns/coredns"
)
