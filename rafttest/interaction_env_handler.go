package rafttest

import (
	"strconv"
	"testing"

	"github.com/cockroachdb/datadriven"
)

// Handle runs one datadriven directive and returns what it printed: the
// log lines of the nodes involved, and whatever the command shows. An
// error of the command (a dropped proposal, say) is printed too; a script
// that cannot be parsed fails the test. Node IDs are 1..n in the order the
// nodes were added.
//
// Nodes:
//
//	add-nodes <n> [voters=(1,2,3)] [learners=(4)] [index=N] [term=N]
//	    [log-terms=(1,1,2)] [content=...] [<config options>]
//	log-level debug|info|warn|error|none
//	replace-node <id>
//
// Driving the nodes:
//
//	campaign <id>
//	propose <id> <data>
//	propose-conf-change <id> [v1=true] [transition=auto|implicit|explicit]
//	    v1 l2 r3        (the changes, on the next line)
//	transfer-leadership from=<id> to=<id>
//	forget-leader <id>
//	read-index <id> <ctx>
//	tick <ids...> [n=N]
//	tick-election <ids...>
//	tick-heartbeat <ids...>
//	compact <id> <index>
//
// Moving work along:
//
//	process-ready <ids...>
//	deliver-msgs [drop=(ids)] [type=MsgApp] [count=N] <ids...>
//	deliver-from <from> <to>
//	process-append-thread [count=N] <ids...>
//	process-apply-thread [count=N] <ids...>
//	stabilize [ids...]
//	isolate <ids...>
//	heal [ids...]
//	report-unreachable <from> <to>
//	send-snapshot <from> <to>
//	report-snapshot <from> <to> status=finish|failure
//	inject-msg from=<id> to=<id> type=<type> [term=N] [index=N] ...
//
// Looking:
//
//	status <id>
//	raft-log <id>
//	raft-state
//	conf-state [ids...]
//
// Each command is documented in its interaction_env_handler_<name>.go.
func (env *InteractionEnv) Handle(t *testing.T, d datadriven.TestData) string {
	env.Output.Reset()
	var err error
	switch d.Cmd {
	case "add-nodes":
		err = env.handleAddNodes(t, d)
	case "log-level":
		err = env.handleLogLevel(t, d)
	case "campaign":
		err = env.handleCampaign(t, d)
	case "propose":
		err = env.handlePropose(t, d)
	case "propose-conf-change":
		err = env.handleProposeConfChange(t, d)
	case "transfer-leadership":
		err = env.handleTransferLeadership(t, d)
	case "forget-leader":
		err = env.handleForgetLeader(t, d)
	case "read-index":
		err = env.handleReadIndex(t, d)
	case "tick", "tick-election", "tick-heartbeat":
		err = env.handleTick(t, d)
	case "compact":
		err = env.handleCompact(t, d)
	case "process-ready":
		err = env.handleProcessReady(t, d)
	case "deliver-msgs":
		err = env.handleDeliverMsgs(t, d)
	case "process-append-thread":
		err = env.handleProcessAppendThread(t, d)
	case "process-apply-thread":
		err = env.handleProcessApplyThread(t, d)
	case "stabilize":
		err = env.handleStabilize(t, d)
	case "isolate", "heal":
		err = env.handleIsolate(t, d)
	case "report-unreachable":
		err = env.handleReportUnreachable(t, d)
	case "send-snapshot":
		err = env.handleSendSnapshot(t, d)
	case "report-snapshot":
		err = env.handleReportSnapshot(t, d)
	case "inject-msg":
		err = env.handleInjectMsg(t, d)
	case "status":
		err = env.handleStatus(t, d)
	case "raft-log":
		err = env.handleRaftLog(t, d)
	case "raft-state":
		err = env.handleRaftState(t, d)
	case "conf-state":
		err = env.handleConfState(t, d)
	case "deliver-from":
		err = env.handleDeliverFrom(t, d)
	case "replace-node":
		err = env.handleReplaceNode(t, d)
	default:
		d.Fatalf(t, "unknown command %q", d.Cmd)
	}
	if env.logLevel == logLevelNone {
		// log-level none silences a script's setup: all of its output,
		// not only the log lines, except for errors.
		env.Output.Reset()
	}
	if err != nil {
		env.Output.Line(err.Error())
	}
	if env.Output.String() == "" {
		return "ok"
	}
	return env.Output.String()
}

// positionals returns the arguments that are bare words, not key=value,
// in order.
func positionals(d datadriven.TestData) []string {
	var out []string
	for _, arg := range d.CmdArgs {
		if len(arg.Vals) == 0 {
			out = append(out, arg.Key)
		}
	}
	return out
}

// parseID parses a node ID or log index.
func parseID(t *testing.T, d datadriven.TestData, s string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		d.Fatalf(t, "%q is not a number: %v", s, err)
	}
	return n
}

// nodeIDs parses every positional argument as a node ID.
func nodeIDs(t *testing.T, d datadriven.TestData) []uint64 {
	t.Helper()
	var ids []uint64
	for _, s := range positionals(d) {
		ids = append(ids, parseID(t, d, s))
	}
	return ids
}

// nodeIDsOrAll is nodeIDs, or the IDs of all nodes when none are listed.
func (env *InteractionEnv) nodeIDsOrAll(t *testing.T, d datadriven.TestData) []uint64 {
	t.Helper()
	ids := nodeIDs(t, d)
	if len(ids) == 0 {
		for _, n := range env.Nodes {
			ids = append(ids, n.Config.ID)
		}
	}
	return ids
}

// positionalIDs parses exactly n positional arguments as numbers.
func positionalIDs(t *testing.T, d datadriven.TestData, n int) []uint64 {
	t.Helper()
	ids := nodeIDs(t, d)
	if len(ids) != n {
		d.Fatalf(t, "%s wants %d positional arguments, got %d", d.Cmd, n, len(ids))
	}
	return ids
}

// idAndWord parses "<id> <word>", the form of propose and read-index.
func idAndWord(t *testing.T, d datadriven.TestData) (uint64, string) {
	t.Helper()
	pos := positionals(d)
	if len(pos) != 2 {
		d.Fatalf(t, "%s wants <id> <word>, got %d positional arguments", d.Cmd, len(pos))
	}
	return parseID(t, d, pos[0]), pos[1]
}

// idsArg parses key=(1,2,3), or returns nil when the key is absent.
func idsArg(t *testing.T, d datadriven.TestData, key string) []uint64 {
	t.Helper()
	arg, ok := d.Arg(key)
	if !ok {
		return nil
	}
	ids := make([]uint64, 0, len(arg.Vals))
	for _, v := range arg.Vals {
		ids = append(ids, parseID(t, d, v))
	}
	return ids
}
