// Stand-in for github.com/iskorotkov/avro/v2, whose module zip the Go module proxy refuses.
// daprd only uses it to cap Avro decoder allocations for the Pulsar component; this shim applies
// the same cap to github.com/hamba/avro/v2, the library the upstream Pulsar client decodes with.
module github.com/iskorotkov/avro/v2

go 1.24

require github.com/hamba/avro/v2 v2.29.0

require (
	github.com/go-viper/mapstructure/v2 v2.2.1 // indirect
	github.com/json-iterator/go v1.1.12 // indirect
	github.com/modern-go/concurrent v0.0.0-20180306012644-bacd9c7ef1dd // indirect
	github.com/modern-go/reflect2 v1.0.2 // indirect
)
