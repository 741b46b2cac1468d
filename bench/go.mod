// Benchmarks comparing this library with etcd raft, in their own module so
// that the library's go.mod never depends on etcd. etcd raft v3.6.0 lives in
// the nested module ./etcd36 because one module can only hold one version of
// go.etcd.io/raft/v3. See BENCHMARKS.md at the repository root.
module github.com/seed901663da/raft/bench

go 1.26.0

replace (
	github.com/seed901663da/raft => ../
	github.com/seed901663da/raft/bench/benchkit => ./benchkit
)

require (
	github.com/seed901663da/raft v0.0.0-00010101000000-000000000000
	github.com/seed901663da/raft/bench/benchkit v0.0.0-00010101000000-000000000000
	go.etcd.io/raft/v3 v3.7.0
	golang.org/x/perf v0.0.0-20260908200009-22c9c6c9d4da
)

require (
	github.com/aclements/go-moremath v0.0.0-20210112150236-f10218a38794 // indirect
	go.uber.org/multierr v1.10.0 // indirect
	go.uber.org/zap v1.28.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

tool golang.org/x/perf/cmd/benchstat
