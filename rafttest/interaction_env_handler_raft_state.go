package rafttest

import (
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
)

// handleRaftState handles
//
//	raft-state
//
// It prints one line per node: its role, its membership as it sees it,
// its term and leader, and whether it is isolated, e.g.
//
//	1: StateLeader (Voter) Term:2 Lead:1
//	2: StateFollower (Voter) Term:2 Lead:1 isolated
func (env *InteractionEnv) handleRaftState(_ *testing.T, _ datadriven.TestData) error {
	env.RaftState()
	return nil
}

// RaftState prints every node's role, membership, term and leader.
func (env *InteractionEnv) RaftState() {
	for _, n := range env.Nodes {
		st := n.RawNode.Status()
		id := n.Config.ID
		member := "Non-member"
		if _, ok := st.Config.Voters.IDs()[id]; ok {
			member = "Voter"
		} else if _, ok := st.Config.Learners[id]; ok {
			member = "Learner"
		}
		var b strings.Builder
		b.WriteString(st.RaftState.String())
		b.WriteString(" (" + member + ")")
		env.Output.Linef("%d: %s Term:%d Lead:%d%s", id, b.String(), st.Term, st.Lead, isolatedSuffix(n))
	}
}

func isolatedSuffix(n *Node) string {
	if n.Isolated {
		return " isolated"
	}
	return ""
}
