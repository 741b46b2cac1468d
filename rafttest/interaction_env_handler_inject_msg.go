package rafttest

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/seed901663da/raft/raftpb"
)

// handleInjectMsg handles
//
//	inject-msg from=<id> to=<id> type=<MsgApp|number> [term=N] [log-term=N]
//	    [index=N] [commit=N] [reject=true] [reject-hint=N] [epoch=N]
//	    [entries=(terms)] [context=word] [snapshot=<index>/<term>]
//	    [snapshot-voters=(ids)]
//
// It steps a message built from the arguments straight into node to, as
// if it had just arrived from from, printing it and any error Step
// returns. Nothing checks that the message makes sense: scripts use it to
// show what a node does with input that no correct peer would send (a
// forged commit index, an append past the end of the log, a message type
// from the future, a sender outside the configuration). type may be a
// number, for a type this build does not know. entries=(2,2) gives empty
// entries of those terms at the indexes after index. snapshot gives a
// snapshot of that index and term whose configuration is the one the
// receiver has applied, or has the voters snapshot-voters.
// Messages the node sends in response go out with its next Ready. A
// response to a leader must carry the epoch the leader gave the sender
// (see the Epoch of the leader's messages to it), or the leader takes it
// for a response to an earlier incarnation of that node and ignores it.
func (env *InteractionEnv) handleInjectMsg(t *testing.T, d datadriven.TestData) error {
	m := &raftpb.Message{}
	d.ScanArgs(t, "from", &m.From)
	d.ScanArgs(t, "to", &m.To)
	var typ string
	d.ScanArgs(t, "type", &typ)
	if v, ok := raftpb.MessageType_value[typ]; ok {
		m.Type = raftpb.MessageType(v)
	} else if n, err := strconv.ParseInt(typ, 10, 32); err == nil {
		m.Type = raftpb.MessageType(n)
	} else {
		d.Fatalf(t, "inject-msg: unknown message type %q", typ)
	}
	d.MaybeScanArgs(t, "term", &m.Term)
	d.MaybeScanArgs(t, "log-term", &m.LogTerm)
	d.MaybeScanArgs(t, "index", &m.Index)
	d.MaybeScanArgs(t, "commit", &m.Commit)
	d.MaybeScanArgs(t, "reject", &m.Reject)
	d.MaybeScanArgs(t, "reject-hint", &m.RejectHint)
	d.MaybeScanArgs(t, "epoch", &m.Epoch)
	var ctx string
	if d.MaybeScanArgs(t, "context", &ctx); ctx != "" {
		m.Context = []byte(ctx)
	}
	for i, term := range idsArg(t, d, "entries") {
		m.Entries = append(m.Entries, &raftpb.Entry{Term: term, Index: m.Index + 1 + uint64(i)})
	}
	if arg, ok := d.Arg("snapshot"); ok {
		var index, term uint64
		if _, err := fmt.Sscanf(arg.SingleVal(t), "%d/%d", &index, &term); err != nil {
			d.Fatalf(t, "inject-msg: snapshot=%s: want <index>/<term>", arg.SingleVal(t))
		}
		n, err := env.node(m.To)
		if err != nil {
			return err
		}
		var cs *raftpb.ConfState
		if last := n.lastState(); last != nil {
			cs = last.Metadata.ConfState
		}
		if voters := idsArg(t, d, "snapshot-voters"); voters != nil {
			cs = &raftpb.ConfState{Voters: voters}
		}
		m.Snapshot = &raftpb.Snapshot{Metadata: &raftpb.SnapshotMetadata{Index: index, Term: term, ConfState: cs}}
	}
	return env.InjectMsg(m)
}

// InjectMsg steps m into node m.To as it is, printing it and any error.
func (env *InteractionEnv) InjectMsg(m *raftpb.Message) error {
	n, err := env.node(m.To)
	if err != nil {
		return err
	}
	env.Output.Line(raftpb.DescribeMessage(m, nil))
	if err := n.Step(m); err != nil {
		env.Output.Linef("error stepping message: %v", err)
	}
	return nil
}
