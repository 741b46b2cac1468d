package rafttest

import (
	"fmt"
	"strconv"
	"strings"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// newNodeLogger returns a logger that prints node id's log lines into the
// environment's output, one per line, in a compact form that stays the same
// from run to run:
//
//	INFO 1 became leader term=2
//
// No timestamp, no caller, fields as key=value in the order logged. The
// level filter is the environment's, read at every line, so log-level
// changes apply to nodes created earlier too.
func (env *InteractionEnv) newNodeLogger(id uint64) *zap.Logger {
	return zap.New(&logCore{env: env, id: id})
}

// logCore is a zapcore.Core writing to an InteractionEnv's Output.
type logCore struct {
	env    *InteractionEnv
	id     uint64
	fields []zapcore.Field
}

// raftIDKey is the field raft adds to every line of a node; the id is
// printed as the line's prefix instead.
const raftIDKey = "raft_id"

func (c *logCore) Enabled(l zapcore.Level) bool { return l >= c.env.logLevel }

func (c *logCore) With(fields []zapcore.Field) zapcore.Core {
	return &logCore{env: c.env, id: c.id, fields: append(c.fields[:len(c.fields):len(c.fields)], fields...)}
}

func (c *logCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *logCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d %s", e.Level.CapitalString(), c.id, e.Message)
	for _, fs := range [][]zapcore.Field{c.fields, fields} {
		for _, f := range fs {
			if f.Key == raftIDKey {
				continue
			}
			b.WriteByte(' ')
			b.WriteString(f.Key)
			b.WriteByte('=')
			b.WriteString(fieldValue(f))
		}
	}
	c.env.Output.Line(b.String())
	return nil
}

func (c *logCore) Sync() error { return nil }

// fieldValue renders the value of one field. It lets zap encode the field
// into a map, which turns every field type (stringers, errors, arrays)
// into plain Go values, and prints that value. Strings that would not read
// as one word are quoted.
func fieldValue(f zapcore.Field) string {
	enc := zapcore.NewMapObjectEncoder()
	f.AddTo(enc)
	v, ok := enc.Fields[f.Key]
	if !ok {
		// Only a skipped or namespace field adds nothing under its key.
		return "<none>"
	}
	if s, ok := v.(string); ok {
		if s == "" || strings.ContainsAny(s, " \t\n\"=") {
			return strconv.Quote(s)
		}
		return s
	}
	return fmt.Sprint(v)
}

// parseLogLevel maps a log-level argument to the level filter.
func parseLogLevel(s string) (zapcore.Level, error) {
	if s == "none" {
		return logLevelNone, nil
	}
	var l zapcore.Level
	if err := l.UnmarshalText([]byte(s)); err != nil || l < zapcore.DebugLevel || l > zapcore.ErrorLevel {
		return 0, fmt.Errorf("unknown log level %q: want debug, info, warn, error or none", s)
	}
	return l, nil
}
