// Package etcd37 runs the comparison workloads against etcd raft v3.7.0
// (go.etcd.io/raft/v3, protobuf-go messages with pointer fields). Its files
// mirror package ours file for file; only the API plumbing differs.
// BENCHMARKS.md at the repository root describes the workloads.
package etcd37
