// The comparison workloads against etcd raft v3.6.0 (gogoproto messages,
// passed by value). A module of its own because go.etcd.io/raft/v3 can
// only be at one version per build list, and ../go.mod needs v3.7.0. It
// does not import the parent module for the same reason; what the
// workloads share is in ../benchkit, which requires nothing. Build it with
// GOWORK=off: see BENCHMARKS.md at the repository root.
module github.com/seed901663da/raft/bench/etcd36

go 1.26.0

replace github.com/seed901663da/raft/bench/benchkit => ../benchkit

require (
	github.com/seed901663da/raft/bench/benchkit v0.0.0-00010101000000-000000000000
	go.etcd.io/raft/v3 v3.6.0
)

require (
	github.com/gogo/protobuf v1.3.2 // indirect
	github.com/golang/protobuf v1.5.4 // indirect
	google.golang.org/protobuf v1.33.0 // indirect
)
