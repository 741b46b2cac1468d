package rafttest

import (
	"fmt"
	"strings"

	"go.uber.org/zap/zapcore"

	"github.com/seed901663da/raft"
	"github.com/seed901663da/raft/raftpb"
)

// InteractionOpts configures an InteractionEnv. The zero value (or nil) is
// fine for most tests.
type InteractionOpts struct {
	// OnConfig, if set, is called with every node's Config just before the
	// node is created, after add-nodes has filled it in. It lets a Go test
	// set options the commands do not cover.
	OnConfig func(*raft.Config)
}

// Node is one node of an InteractionEnv: a RawNode, the storage that stands
// in for its disk, and what its application has applied.
type Node struct {
	*raft.RawNode

	// Storage is the node's durable state. The environment writes to it
	// what Ready (or, with AsyncStorageWrites, the append thread) asks to
	// persist.
	Storage *raft.MemoryStorage
	// Config is the configuration the node was created with.
	Config *raft.Config

	// History holds the state of the node's state machine after every
	// applied entry and every installed snapshot, oldest first, in the form
	// of a snapshot: Metadata names the last applied entry and the
	// configuration in force after it; Data is the state machine, the data
	// of every applied normal entry in order, separated by spaces.
	// Invariant: the indexes increase.
	History []*raftpb.Snapshot

	// AppendWork and ApplyWork queue the MsgStorageAppend and
	// MsgStorageApply messages that the node's Ready batches addressed to
	// its local append and apply threads (AsyncStorageWrites only), oldest
	// first. process-append-thread and process-apply-thread perform them.
	AppendWork []*raftpb.Message
	ApplyWork  []*raftpb.Message

	// Isolated nodes neither send nor receive: deliver-msgs drops every
	// message from or to them.
	Isolated bool
}

// InteractionEnv is a cluster of nodes driven one step at a time by
// datadriven commands; see Handle.
type InteractionEnv struct {
	Options *InteractionOpts
	// Nodes are the nodes in ID order: Nodes[i] has ID i+1.
	Nodes []*Node
	// Messages are in flight between nodes, in the order they were sent.
	Messages []*raftpb.Message

	// Output collects what the current command prints, including the log
	// lines of the nodes.
	Output *Output

	// logLevel is the least severe level of node log lines that are
	// printed; logLevelNone prints none.
	logLevel zapcore.Level
}

// logLevelNone is above every level raft logs at.
const logLevelNone = zapcore.FatalLevel + 1

// NewInteractionEnv returns an environment without nodes; opts may be nil.
func NewInteractionEnv(opts *InteractionOpts) *InteractionEnv {
	if opts == nil {
		opts = &InteractionOpts{}
	}
	return &InteractionEnv{
		Options:  opts,
		Output:   &Output{},
		logLevel: zapcore.InfoLevel,
	}
}

// node returns the node with ID id, or an error naming the valid range.
func (env *InteractionEnv) node(id uint64) (*Node, error) {
	if id == 0 || id > uint64(len(env.Nodes)) {
		return nil, fmt.Errorf("no node %d: the nodes are 1..%d", id, len(env.Nodes))
	}
	return env.Nodes[id-1], nil
}

// Output is a text buffer that indents every line it is given by the
// current indentation, so that the log lines a node prints while handling
// something line up under the heading of that something.
type Output struct {
	b       strings.Builder
	indent  int
	midLine bool
}

// Write implements io.Writer.
func (o *Output) Write(p []byte) (int, error) {
	for _, c := range p {
		if !o.midLine && c != '\n' {
			for range o.indent {
				o.b.WriteByte(' ')
			}
		}
		o.b.WriteByte(c)
		o.midLine = c != '\n'
	}
	return len(p), nil
}

// WriteString writes s as it is.
func (o *Output) WriteString(s string) {
	_, _ = o.Write([]byte(s))
}

// Line writes s and ends the line, unless s already ends it.
func (o *Output) Line(s string) {
	o.WriteString(s)
	if !strings.HasSuffix(s, "\n") {
		o.WriteString("\n")
	}
}

// Linef formats and writes a line.
func (o *Output) Linef(format string, args ...any) {
	o.Line(fmt.Sprintf(format, args...))
}

// Indented runs f with everything it writes indented two more spaces.
func (o *Output) Indented(f func() error) error {
	if o.midLine {
		o.WriteString("\n")
	}
	o.indent += 2
	defer func() { o.indent -= 2 }()
	return f()
}

// String returns what was written since the last Reset.
func (o *Output) String() string { return o.b.String() }

// Reset empties the buffer.
func (o *Output) Reset() {
	o.b.Reset()
	o.indent = 0
	o.midLine = false
}
