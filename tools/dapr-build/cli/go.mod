// Build module for the Dapr CLI pinned by this project. setup.ts copies it to .dapr/build/cli and
// builds there with -mod=mod (the CLI's go.sum is resolved at build time; see README).
module daprclibuild

go 1.26.4

require github.com/dapr/cli v1.18.0
