// Package raftpb defines the messages of the raft library: log entries, the
// protocol Message envelope, hard state, membership configuration and
// snapshots.
//
// The types are generated from raft.proto by protoc-gen-go (regenerate with
// `make generate`). Everything else in this package is hand-written helpers:
// short aliases for enum values (names.go), readable descriptions for logs
// and tests (describe.go), conversions between the two conf change formats
// and a compact text syntax for them (confchange.go), and ConfState
// equivalence (confstate.go).
package raftpb
