package rafttest

import (
	"fmt"

	"github.com/seed901663da/raft/raftpb"
)

// persist writes what a Ready (or a MsgStorageAppend) asks to be made
// durable, in the documented order: snapshot, then entries, then hard
// state. An installed snapshot also restores the state machine.
func (n *Node) persist(hs *raftpb.HardState, ents []*raftpb.Entry, snap *raftpb.Snapshot) error {
	if snap != nil {
		if err := n.Storage.ApplySnapshot(snap); err != nil {
			return fmt.Errorf("applying snapshot to storage: %w", err)
		}
		n.History = append(n.History, snap)
	}
	if err := n.Storage.Append(ents); err != nil {
		return fmt.Errorf("appending to storage: %w", err)
	}
	if hs != nil {
		if err := n.Storage.SetHardState(hs); err != nil {
			return fmt.Errorf("saving hard state: %w", err)
		}
	}
	return nil
}

// apply applies committed entries to the state machine: a normal entry
// adds its data, a conf change is handed to ApplyConfChange. Every entry
// adds a History record. A conf change the node refuses (possible with
// DisableConfChangeValidation) is reported on the output and applied as a
// no-op, the way an application would carry on.
func (n *Node) apply(out *Output, ents []*raftpb.Entry) error {
	for _, e := range ents {
		last := n.lastState()
		if last != nil && e.Index <= last.Metadata.Index {
			// Already reflected, by a snapshot installed meanwhile.
			continue
		}
		var cs *raftpb.ConfState
		var data []byte
		if last != nil {
			cs, data = last.Metadata.ConfState, last.Data
		}
		switch e.Type {
		case raftpb.EntryNormal:
			if len(e.Data) > 0 {
				data = appendState(data, e.Data)
			}
		case raftpb.EntryConfChange, raftpb.EntryConfChangeV2:
			cc, err := raftpb.UnmarshalConfChange(e.Type, e.Data)
			if err != nil {
				return fmt.Errorf("entry %d: decoding conf change: %w", e.Index, err)
			}
			newCS, err := n.ApplyConfChange(cc)
			if err != nil {
				out.Linef("conf change at index %d not applied: %v", e.Index, err)
			} else {
				cs = newCS
			}
		}
		n.History = append(n.History, &raftpb.Snapshot{
			Metadata: &raftpb.SnapshotMetadata{Index: e.Index, Term: e.Term, ConfState: cs},
			Data:     data,
		})
	}
	return nil
}

// appendState returns the state machine data after an entry with payload
// p, leaving data (shared with earlier History records) untouched.
func appendState(data, p []byte) []byte {
	out := make([]byte, 0, len(data)+1+len(p))
	out = append(out, data...)
	if len(out) > 0 {
		out = append(out, ' ')
	}
	return append(out, p...)
}

// lastState is the newest History record, or nil.
func (n *Node) lastState() *raftpb.Snapshot {
	if len(n.History) == 0 {
		return nil
	}
	return n.History[len(n.History)-1]
}

// stateAt returns the History record of index, or nil if the node has not
// applied exactly that index (it was skipped by a snapshot, or is not
// applied yet).
func (n *Node) stateAt(index uint64) *raftpb.Snapshot {
	for i := len(n.History) - 1; i >= 0; i-- {
		if s := n.History[i]; s.Metadata.Index <= index {
			if s.Metadata.Index == index {
				return s
			}
			return nil
		}
	}
	return nil
}
