package rafttest

import (
	"fmt"
	"math"
	"testing"

	"github.com/cockroachdb/datadriven"
	"google.golang.org/protobuf/proto"

	"github.com/seed901663da/raft"
	"github.com/seed901663da/raft/raftpb"
)

// handleAddNodes handles
//
//	add-nodes <n> [voters=(1,2,3)] [learners=(4)] [index=N] [term=N]
//	    [log-terms=(1,1,2)] [content=...] [<config options>]
//
// It creates n nodes with the next free IDs. With voters (and learners)
// every node's storage starts from a snapshot at index (default 1, term 1)
// holding that configuration and content as its data, followed by one
// empty entry per log-terms value, and a hard state of term (default: the
// last term of the log) committed at the snapshot. Without voters the
// storage is empty, as for a node about to be added to a running cluster.
//
// Config options: election-tick, heartbeat-tick (default 10 and 1),
// prevote, checkquorum, read-only=lease|safe, max-inflight (default 256),
// max-inflight-bytes, max-committed-size-per-ready, max-uncommitted-size,
// max-size-per-msg (default unlimited), disable-proposal-forwarding,
// step-down-on-removal, disable-conf-change-validation,
// async-storage-writes.
func (env *InteractionEnv) handleAddNodes(t *testing.T, d datadriven.TestData) error {
	n := positionalIDs(t, d, 1)[0]
	setup := NodeSetup{Config: defaultConfig()}
	var cs raftpb.ConfState
	index, content := uint64(1), ""
	for _, arg := range d.CmdArgs {
		if len(arg.Vals) == 0 {
			continue
		}
		switch arg.Key {
		case "voters":
			cs.Voters = idsArg(t, d, arg.Key)
		case "learners":
			cs.Learners = idsArg(t, d, arg.Key)
		case "index":
			arg.Scan(t, 0, &index)
		case "term":
			arg.Scan(t, 0, &setup.Term)
		case "log-terms":
			setup.LogTerms = idsArg(t, d, arg.Key)
		case "content":
			arg.Scan(t, 0, &content)
		default:
			if !scanConfigOption(t, d, arg, &setup.Config) {
				d.Fatalf(t, "add-nodes: unknown option %q", arg.Key)
			}
		}
	}
	if len(cs.Voters) > 0 || len(cs.Learners) > 0 {
		setup.Snapshot = &raftpb.Snapshot{
			Metadata: &raftpb.SnapshotMetadata{ConfState: &cs, Index: index, Term: 1},
			Data:     []byte(content),
		}
	} else if len(setup.LogTerms) > 0 {
		d.Fatalf(t, "add-nodes: log-terms needs voters: an empty storage holds no log")
	}
	return env.AddNodes(int(n), setup)
}

// scanConfigOption parses one add-nodes option that sets a Config field,
// and reports whether arg was one.
func scanConfigOption(t *testing.T, d datadriven.TestData, arg datadriven.CmdArg, cfg *raft.Config) bool {
	switch arg.Key {
	case "election-tick":
		arg.Scan(t, 0, &cfg.ElectionTick)
	case "heartbeat-tick":
		arg.Scan(t, 0, &cfg.HeartbeatTick)
	case "prevote":
		arg.Scan(t, 0, &cfg.PreVote)
	case "checkquorum":
		arg.Scan(t, 0, &cfg.CheckQuorum)
	case "read-only":
		switch v := arg.SingleVal(t); v {
		case "safe":
			cfg.ReadOnlyOption = raft.ReadOnlySafe
		case "lease":
			cfg.ReadOnlyOption = raft.ReadOnlyLeaseBased
		default:
			d.Fatalf(t, "add-nodes: read-only=%s: want safe or lease", v)
		}
	case "max-inflight":
		arg.Scan(t, 0, &cfg.MaxInflightMsgs)
	case "max-inflight-bytes":
		arg.Scan(t, 0, &cfg.MaxInflightBytes)
	case "max-committed-size-per-ready":
		arg.Scan(t, 0, &cfg.MaxCommittedSizePerReady)
	case "max-uncommitted-size":
		arg.Scan(t, 0, &cfg.MaxUncommittedEntriesSize)
	case "max-size-per-msg":
		arg.Scan(t, 0, &cfg.MaxSizePerMsg)
	case "disable-proposal-forwarding":
		arg.Scan(t, 0, &cfg.DisableProposalForwarding)
	case "step-down-on-removal":
		arg.Scan(t, 0, &cfg.StepDownOnRemoval)
	case "disable-conf-change-validation":
		arg.Scan(t, 0, &cfg.DisableConfChangeValidation)
	case "async-storage-writes":
		arg.Scan(t, 0, &cfg.AsyncStorageWrites)
	default:
		return false
	}
	return true
}

// defaultConfig is the configuration template of add-nodes: short
// timeouts, appends limited only by the inflight window.
func defaultConfig() raft.Config {
	return raft.Config{
		ElectionTick:    10,
		HeartbeatTick:   1,
		MaxSizePerMsg:   math.MaxUint64,
		MaxInflightMsgs: 256,
	}
}

// NodeSetup describes the nodes AddNodes creates.
type NodeSetup struct {
	// Config is the template of every node's configuration; ID, Storage,
	// Logger and Applied are filled in per node.
	Config raft.Config
	// Snapshot, if set, is applied to every node's storage before the node
	// is created, so that the node starts with the snapshot's
	// configuration and a log that continues after it. Nil leaves the
	// storage empty.
	Snapshot *raftpb.Snapshot
	// LogTerms are the terms of empty entries written to the storage
	// after the snapshot, one entry per term, to give nodes divergent logs.
	LogTerms []uint64
	// Term is the term of the persisted hard state; 0 means the last term
	// of the log. The hard state commits the snapshot's index.
	Term uint64
}

// AddNodes creates n nodes with the next free IDs, as setup describes.
func (env *InteractionEnv) AddNodes(n int, setup NodeSetup) error {
	for range n {
		id := uint64(len(env.Nodes)) + 1
		s, err := newNodeStorage(setup)
		if err != nil {
			return fmt.Errorf("node %d: %w", id, err)
		}
		cfg := setup.Config
		cfg.ID = id
		cfg.Storage = s
		cfg.Logger = env.newNodeLogger(id)
		if setup.Snapshot != nil {
			cfg.Applied = setup.Snapshot.Metadata.Index
		}
		if env.Options.OnConfig != nil {
			env.Options.OnConfig(&cfg)
		}
		rn, err := raft.NewRawNode(&cfg)
		if err != nil {
			return err
		}
		node := &Node{RawNode: rn, Storage: s, Config: &cfg}
		if setup.Snapshot != nil {
			node.History = append(node.History, proto.Clone(setup.Snapshot).(*raftpb.Snapshot))
		}
		env.Nodes = append(env.Nodes, node)
	}
	return nil
}

// newNodeStorage writes setup's snapshot, log and hard state to a fresh
// storage.
func newNodeStorage(setup NodeSetup) (*raft.MemoryStorage, error) {
	s := raft.NewMemoryStorage()
	snap := setup.Snapshot
	if snap == nil {
		return s, nil
	}
	if err := s.ApplySnapshot(proto.Clone(snap).(*raftpb.Snapshot)); err != nil {
		return nil, err
	}
	last, lastTerm := snap.Metadata.Index, snap.Metadata.Term
	ents := make([]*raftpb.Entry, 0, len(setup.LogTerms))
	for _, term := range setup.LogTerms {
		if term < lastTerm {
			return nil, fmt.Errorf("log-terms must not decrease: %d after %d", term, lastTerm)
		}
		last, lastTerm = last+1, term
		ents = append(ents, &raftpb.Entry{Index: last, Term: term})
	}
	if err := s.Append(ents); err != nil {
		return nil, err
	}
	term := setup.Term
	if term == 0 {
		term = lastTerm
	} else if term < lastTerm {
		return nil, fmt.Errorf("term %d is below the last term %d of the log", term, lastTerm)
	}
	if err := s.SetHardState(&raftpb.HardState{Term: term, Commit: snap.Metadata.Index}); err != nil {
		return nil, err
	}
	return s, nil
}
