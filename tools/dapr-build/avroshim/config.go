// Package avro is the subset of github.com/iskorotkov/avro/v2 that daprd v1.18.3 references.
package avro

import hamba "github.com/hamba/avro/v2"

// API is the frozen decoder configuration.
type API = hamba.API

// DefaultConfig mirrors the fork's package variable that daprd assigns at start.
var DefaultConfig API = hamba.DefaultConfig

// Config holds the allocation caps daprd sets. hamba/avro has no map cap, so MaxMapAllocSize
// is accepted and ignored; MaxSliceAllocSize is the cap that matters for untrusted payloads.
type Config struct {
	MaxSliceAllocSize int
	MaxMapAllocSize   int
}

// Freeze applies the caps to hamba/avro's default configuration (the one the Pulsar client
// uses) and returns it, so `avro.DefaultConfig = avro.Config{...}.Freeze()` has the fork's effect.
func (c Config) Freeze() API {
	hamba.DefaultConfig = hamba.Config{MaxSliceAllocSize: c.MaxSliceAllocSize}.Freeze()
	return hamba.DefaultConfig
}
