package rafttest

import (
	"testing"

	"github.com/cockroachdb/datadriven"
)

// handleLogLevel handles
//
//	log-level debug|info|warn|error|none
//
// From now on the nodes' log lines below the level are not printed. none
// prints nothing at all but errors, Ready batches and messages included:
// scripts silence their setup this way. The default is info.
func (env *InteractionEnv) handleLogLevel(t *testing.T, d datadriven.TestData) error {
	pos := positionals(d)
	if len(pos) != 1 {
		d.Fatalf(t, "log-level wants one level")
	}
	return env.SetLogLevel(pos[0])
}

// SetLogLevel sets the level of node log lines printed: debug, info, warn,
// error or none.
func (env *InteractionEnv) SetLogLevel(level string) error {
	l, err := parseLogLevel(level)
	if err != nil {
		return err
	}
	env.logLevel = l
	return nil
}
