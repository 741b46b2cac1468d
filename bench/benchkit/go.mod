// The parts of the comparison workloads that do not depend on any raft
// implementation: the meter, the shared settings and the Node workload's
// proposers. A module of its own, with no requirements, so that both
// ../go.mod (etcd raft v3.7.0) and ../etcd36/go.mod (v3.6.0) can require
// it without pulling in each other's etcd raft version.
module github.com/seed901663da/raft/bench/benchkit

go 1.26.0
