package rafttest

import (
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/seed901663da/raft/raftpb"
)

// handleProposeConfChange handles
//
//	propose-conf-change <id> [v1=true] [transition=auto|implicit|explicit]
//	v1 l2 r3
//
// The node proposes the membership changes given on the input line, in
// the syntax of raftpb.ConfChangesFromString (v: add voter, l: add
// learner, r: remove, u: update). By default that is a ConfChangeV2 with
// the given transition; no changes at all makes the empty ConfChangeV2
// that leaves a joint configuration. v1=true proposes a legacy ConfChange,
// which holds exactly one change.
func (env *InteractionEnv) handleProposeConfChange(t *testing.T, d datadriven.TestData) error {
	id := positionalIDs(t, d, 1)[0]
	v1 := false
	d.MaybeScanArgs(t, "v1", &v1)
	transition := raftpb.ConfChangeTransitionAuto
	if arg, ok := d.Arg("transition"); ok {
		switch v := arg.SingleVal(t); v {
		case "auto":
		case "implicit":
			transition = raftpb.ConfChangeTransitionJointImplicit
		case "explicit":
			transition = raftpb.ConfChangeTransitionJointExplicit
		default:
			d.Fatalf(t, "propose-conf-change: transition=%s: want auto, implicit or explicit", v)
		}
	}
	ccs, err := raftpb.ConfChangesFromString(strings.TrimSpace(d.Input))
	if err != nil {
		d.Fatalf(t, "propose-conf-change: %v", err)
	}
	var cc raftpb.ConfChangeI
	if v1 {
		if len(ccs) != 1 || transition != raftpb.ConfChangeTransitionAuto {
			d.Fatalf(t, "propose-conf-change: v1 takes exactly one change and no transition")
		}
		cc = &raftpb.ConfChange{Type: ccs[0].Type, NodeId: ccs[0].NodeId}
	} else {
		cc = &raftpb.ConfChangeV2{Changes: ccs, Transition: transition}
	}
	return env.ProposeConfChange(id, cc)
}

// ProposeConfChange proposes a membership change on node id.
func (env *InteractionEnv) ProposeConfChange(id uint64, cc raftpb.ConfChangeI) error {
	n, err := env.node(id)
	if err != nil {
		return err
	}
	return n.RawNode.ProposeConfChange(cc)
}
