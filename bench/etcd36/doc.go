// Package etcd36 runs the comparison workloads against etcd raft v3.6.0
// (go.etcd.io/raft/v3 with gogoproto messages, passed by value). Its files
// mirror the bench module's packages ours and etcd37 file for file; only
// the API plumbing differs. BENCHMARKS.md at the repository root describes
// the workloads.
package etcd36
