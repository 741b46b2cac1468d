// Package ours runs the comparison workloads against this repository's raft
// library. The sibling packages etcd37 (and the module ../etcd36) run the
// same workloads, file for file and name for name, against etcd raft, so
// that the differences between the three are only API plumbing; what does
// not depend on the implementation is in the module ../benchkit.
// BENCHMARKS.md at the repository root describes the workloads and holds
// the latest results.
package ours
