package rafttest

import (
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/seed901663da/raft"
)

// handleReplaceNode handles
//
//	replace-node <id>
//
// Node id's machine is replaced by a new one with an empty disk: a fresh
// node with the same ID and configuration options but an empty storage,
// no state machine and no queued storage work, as an operator does before
// adding a node back to a cluster it was removed from. Messages in flight
// stay in flight: those the old node sent still arrive (scripts use them as
// answers from an earlier incarnation), and those to it reach the new one.
func (env *InteractionEnv) handleReplaceNode(t *testing.T, d datadriven.TestData) error {
	return env.ReplaceNode(positionalIDs(t, d, 1)[0])
}

// ReplaceNode replaces node id with a fresh node with empty storage.
func (env *InteractionEnv) ReplaceNode(id uint64) error {
	old, err := env.node(id)
	if err != nil {
		return err
	}
	s := raft.NewMemoryStorage()
	cfg := *old.Config
	cfg.Storage = s
	cfg.Applied = 0
	cfg.Logger = env.newNodeLogger(id)
	rn, err := raft.NewRawNode(&cfg)
	if err != nil {
		return err
	}
	env.Nodes[id-1] = &Node{RawNode: rn, Storage: s, Config: &cfg, Isolated: old.Isolated}
	return nil
}
