package rafttest

import (
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/seed901663da/raft/raftpb"
)

// handleRaftLog handles
//
//	raft-log <id>
//
// It prints the entries in the node's storage, the durable log.
func (env *InteractionEnv) handleRaftLog(t *testing.T, d datadriven.TestData) error {
	return env.RaftLog(positionalIDs(t, d, 1)[0])
}

// RaftLog prints the entries in node id's storage, or says that it holds
// none.
func (env *InteractionEnv) RaftLog(id uint64) error {
	n, err := env.node(id)
	if err != nil {
		return err
	}
	first, err := n.Storage.FirstIndex()
	if err != nil {
		return err
	}
	last, err := n.Storage.LastIndex()
	if err != nil {
		return err
	}
	if last < first {
		env.Output.Linef("log is empty: first index=%d, last index=%d", first, last)
		return nil
	}
	ents, err := n.Storage.Entries(first, last+1, ^uint64(0))
	if err != nil {
		return err
	}
	env.Output.WriteString(raftpb.DescribeEntries(ents, nil))
	return nil
}
