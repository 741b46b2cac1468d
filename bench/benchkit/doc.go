// Package benchkit holds what the comparison workloads in ../ours,
// ../etcd37 and ../etcd36 share whatever raft implementation they drive:
// the settings every implementation is configured with, the [Meter] that
// reports per-unit time and allocations, and [NodeLoad], the proposers of
// the Node workload. Each adapter keeps only the glue to its library's
// API, so the three measure exactly the same work.
package benchkit

// Settings shared by every workload and every implementation.
const (
	PayloadSize     = 128
	ElectionTick    = 10
	HeartbeatTick   = 1
	MaxSizePerMsg   = 1 << 20
	MaxInflightMsgs = 256
	// Storage is compacted once this many entries are applied past the
	// last compaction point, keeping CompactKeep of them, so that long
	// runs do not measure a growing heap.
	CompactEvery = 4096
	CompactKeep  = 1024
)
