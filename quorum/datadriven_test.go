package quorum

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
)

// TestDataDriven runs the scripts in testdata/. Commands:
//
//	committed cfg=(1,2,3) [cfgj=(1,2,4)] acks=(1:100,2:101,4:99)
//	    Describe the configuration against the acknowledged indexes (a voter
//	    missing from acks has acknowledged nothing) and the committed index.
//	vote cfg=(1,2,3) [cfgj=(1,2,4)] votes=(1:y,2:n)
//	    Tally the votes (y = granted, n = rejected, absent = not yet cast).
//
// cfgj makes the configuration joint, with cfg incoming and cfgj outgoing;
// cfgj=() is a joint configuration with an empty outgoing half. Each result
// is also checked against the naive model in naive_test.go; a disagreement
// fails the test and shows up in the output.
func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			c, joint := parseJoint(t, d)
			switch d.Cmd {
			case "committed":
				return runCommitted(t, d, c, joint)
			case "vote":
				return runVote(t, d, c, joint)
			}
			d.Fatalf(t, "unknown command %q", d.Cmd)
			return ""
		})
	})
}

func runCommitted(t *testing.T, d *datadriven.TestData, c JointConfig, joint bool) string {
	acks := MapAckIndexer{}
	if arg, ok := d.Arg("acks"); ok {
		for _, v := range nonEmpty(arg.Vals) {
			id, idx, ok := strings.Cut(v, ":")
			if !ok {
				d.Fatalf(t, "ack %q is not id:index", v)
			}
			acks[parseUint(t, d, id)] = Index(parseUint(t, d, idx))
		}
	}
	var out string
	var got Index
	if joint {
		out, got = c.Describe(acks), c.CommittedIndex(acks)
	} else {
		out, got = c[0].Describe(acks), c[0].CommittedIndex(acks)
		// A majority must commit the same as a joint configuration that
		// pairs it with nothing, or with itself.
		for _, j := range []JointConfig{{c[0], nil}, {c[0], c[0]}} {
			if jc := j.CommittedIndex(acks); jc != got {
				out += fmt.Sprintf("BUG: %s commits %s but %s commits %s\n", c[0], got, j, jc)
			}
		}
	}
	if want := naiveCommitted(c, acks); got != want {
		out += fmt.Sprintf("BUG: naive model commits %s\n", want)
	}
	if strings.Contains(out, "BUG") {
		t.Error(d.Pos + ": " + out)
	}
	return out
}

func runVote(t *testing.T, d *datadriven.TestData, c JointConfig, joint bool) string {
	votes := map[uint64]bool{}
	if arg, ok := d.Arg("votes"); ok {
		for _, v := range nonEmpty(arg.Vals) {
			id, yn, _ := strings.Cut(v, ":")
			if yn != "y" && yn != "n" {
				d.Fatalf(t, "vote %q is not id:y or id:n", v)
			}
			votes[parseUint(t, d, id)] = yn == "y"
		}
	}
	var out string
	var got VoteResult
	if joint {
		got = c.VoteResult(votes)
		out = fmt.Sprintf("incoming %s: %s\noutgoing %s: %s\njoint: %s\n",
			c[0], tally(c[0], votes), c[1], tally(c[1], votes), got)
	} else {
		got = c[0].VoteResult(votes)
		out = fmt.Sprintf("%s: %s\n", c[0], tally(c[0], votes))
	}
	if want := naiveVote(c, votes); got != want {
		out += fmt.Sprintf("BUG: naive model says %s\n", want)
		t.Error(d.Pos + ": " + out)
	}
	return out
}

// tally summarises the votes c receives and the outcome.
func tally(c MajorityConfig, votes map[uint64]bool) string {
	granted, rejected := 0, 0
	for id := range c {
		if v, ok := votes[id]; ok && v {
			granted++
		} else if ok {
			rejected++
		}
	}
	return fmt.Sprintf("granted=%d rejected=%d missing=%d -> %s",
		granted, rejected, len(c)-granted-rejected, c.VoteResult(votes))
}

// parseJoint reads cfg and the optional cfgj; joint reports whether cfgj
// was given.
func parseJoint(t *testing.T, d *datadriven.TestData) (c JointConfig, joint bool) {
	c[0] = parseMajority(t, d, "cfg")
	if d.HasArg("cfgj") {
		c[1] = parseMajority(t, d, "cfgj")
		joint = true
	}
	return c, joint
}

func parseMajority(t *testing.T, d *datadriven.TestData, key string) MajorityConfig {
	c := MajorityConfig{}
	arg, ok := d.Arg(key)
	if !ok {
		d.Fatalf(t, "missing argument %s", key)
	}
	for _, v := range nonEmpty(arg.Vals) {
		c[parseUint(t, d, v)] = struct{}{}
	}
	return c
}

// nonEmpty drops the single empty value that "key=()" parses to.
func nonEmpty(vals []string) []string {
	var out []string
	for _, v := range vals {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func parseUint(t *testing.T, d *datadriven.TestData, s string) uint64 {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil {
		d.Fatalf(t, "%v", err)
	}
	return n
}
