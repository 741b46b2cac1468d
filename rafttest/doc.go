// Package rafttest drives Raft nodes through datadriven interaction
// scripts, the main protocol tests of this module.
//
// An [InteractionEnv] holds a handful of [raft.RawNode]s, each with a
// [raft.MemoryStorage] standing in for its disk, and a queue of messages in
// flight between them. Nothing happens unless a script says so: a node only
// handles a Ready when told to (process-ready), a message only arrives when
// delivered (deliver-msgs), time only passes on tick commands. That makes
// every interleaving a script can express reproducible, and the printed
// output — Ready batches, messages, and the nodes' own log lines — shows
// exactly what each step did.
//
// A test feeds every directive of a script file to [InteractionEnv.Handle]:
//
//	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
//		env := rafttest.NewInteractionEnv(nil)
//		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
//			return env.Handle(t, *d)
//		})
//	})
//
// Each command lives in a file of its own, interaction_env_handler_<name>.go,
// with the parsing of its arguments kept apart from an exported method of
// InteractionEnv that does the work, so Go tests can drive the environment
// directly too. The commands are listed on [InteractionEnv.Handle].
package rafttest
