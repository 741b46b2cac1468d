package raft_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/seed901663da/raft"
	"github.com/seed901663da/raft/raftpb"
	"github.com/seed901663da/raft/rafttest"
)

// TestRejoinRandomized is the randomized counterpart of the rejoin scripts
// (testdata/rejoin_*.txt): in one long term of leader 1, node 3 is removed
// and added back with an empty disk again and again, while messages are
// delivered after random delays, some very late, some never. After
// every step the leader's progress for each peer must be backed by the
// peer's disk: Match never beyond the peer's last durable entry, and the
// entry at Match the same as the leader's. A response from an earlier
// incarnation of node 3 that the leader believed would break this.
//
// Seeded and deterministic: seed n runs the same schedule every time.
func TestRejoinRandomized(t *testing.T) {
	readds := 0
	for seed := uint64(1); seed <= 100; seed++ {
		res := runRejoinSchedule(t, seed, 400)
		if res.violation != "" {
			t.Fatalf("seed %d: %s", seed, res.violation)
		}
		readds += res.readds
	}
	// The schedules must do what they are for; a change to the harness that
	// stopped node 3 from coming back would otherwise pass unnoticed.
	if readds < 100 {
		t.Fatalf("node 3 was added back only %d times in 100 schedules", readds)
	}
}

// rejoinResult is the outcome of one schedule: the first violation of the
// progress invariant (or ""), and how many times node 3 was added back.
type rejoinResult struct {
	violation string
	readds    int
}

// runRejoinSchedule runs one random schedule of the given number of steps.
func runRejoinSchedule(t testing.TB, seed uint64, steps int) rejoinResult {
	r := rand.New(rand.NewPCG(seed, 0x5e1f))
	env := rafttest.NewInteractionEnv(nil)
	if err := env.SetLogLevel("none"); err != nil {
		t.Fatal(err)
	}
	// Followers never tick, so node 1 leads throughout: stale answers can
	// only be told apart by epoch, not by term.
	err := env.AddNodes(3, rafttest.NodeSetup{
		Config: raft.Config{ElectionTick: 10, HeartbeatTick: 1, MaxSizePerMsg: math.MaxUint64, MaxInflightMsgs: 256},
		Snapshot: &raftpb.Snapshot{Metadata: &raftpb.SnapshotMetadata{
			Index: 1, Term: 1, ConfState: &raftpb.ConfState{Voters: []uint64{1, 2, 3}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	leader := env.Nodes[0]
	if err := leader.Campaign(); err != nil {
		t.Fatal(err)
	}
	if err := env.Stabilize(1, 2, 3); err != nil {
		t.Fatal(err)
	}
	replaced := false // node 3 got a new disk since it was last removed
	nw := &network{r: r, due: map[*raftpb.Message]int{}}
	var res rejoinResult
	member := true
	for step := range steps {
		env.Output.Reset()
		var action string
		switch k := r.IntN(20); {
		case k < 3:
			action = "propose"
			if err := leader.Propose([]byte(fmt.Sprint(step))); err != nil && !errors.Is(err, raft.ErrProposalDropped) {
				t.Fatal(err)
			}
		case k < 9:
			id := uint64(1 + r.IntN(3))
			action = fmt.Sprintf("process-ready %d", id)
			if env.Nodes[id-1].HasReady() {
				if err := env.ProcessReady(id); err != nil {
					t.Fatal(err)
				}
			}
		case k < 15:
			action = nw.deliver(env, step)
		case k < 16:
			action = "tick leader"
			leader.Tick()
		default:
			action = cycleNode3(t, env, &replaced)
		}
		if v := checkProgressBacked(env); v != "" {
			res.violation = fmt.Sprintf("step %d (%s): %s", step, action, v)
			return res
		}
		wasMember := member
		member = isVoter(leader, 3)
		if member && !wasMember {
			res.readds++
		}
	}
	return res
}

// isVoter reports whether id is a voter in n's configuration.
func isVoter(n *rafttest.Node, id uint64) bool {
	_, ok := n.Status().Config.Voters.IDs()[id]
	return ok
}

// network gives every message a delivery time when it first sees it in
// flight: a few steps away mostly, but one in eight is held for up to 300
// steps, so that answers of a node often arrive after it has been removed
// and added back.
type network struct {
	r   *rand.Rand
	due map[*raftpb.Message]int
}

// deliver steps into their recipients the messages due at step, in the
// order they were sent, or (one time in twenty) drops them.
func (nw *network) deliver(env *rafttest.InteractionEnv, step int) string {
	for _, m := range env.Messages {
		if _, ok := nw.due[m]; !ok {
			delay := nw.r.IntN(4)
			if nw.r.IntN(8) == 0 {
				delay = nw.r.IntN(300)
			}
			nw.due[m] = step + delay
		}
	}
	var due []*raftpb.Message
	env.Messages = slices.DeleteFunc(env.Messages, func(m *raftpb.Message) bool {
		if nw.due[m] <= step {
			due = append(due, m)
			return true
		}
		return false
	})
	for _, m := range due {
		delete(nw.due, m)
		if nw.r.IntN(20) == 0 {
			continue
		}
		// Errors (an answer from a peer no longer tracked, say) are what a
		// transport would log and ignore.
		_ = env.Nodes[m.To-1].Step(proto.Clone(m).(*raftpb.Message))
	}
	return fmt.Sprintf("deliver %d messages", len(due))
}

// cycleNode3 moves node 3 one step along removed, new disk, added back:
// it proposes removing it while it is a member, and once the leader has
// applied the removal gives it an empty disk and proposes adding it back.
// The leader refuses a change while another is unapplied; the next cycle
// step simply tries again.
func cycleNode3(t testing.TB, env *rafttest.InteractionEnv, replaced *bool) string {
	leader := env.Nodes[0]
	var cc *raftpb.ConfChangeV2
	action := ""
	switch {
	case isVoter(leader, 3):
		*replaced = false
		cc, action = &raftpb.ConfChangeV2{Changes: []*raftpb.ConfChangeSingle{{Type: raftpb.ConfChangeRemoveNode, NodeId: 3}}}, "propose r3"
	case !*replaced:
		if err := env.ReplaceNode(3); err != nil {
			t.Fatal(err)
		}
		*replaced = true
		return "replace node 3"
	default:
		cc, action = &raftpb.ConfChangeV2{Changes: []*raftpb.ConfChangeSingle{{Type: raftpb.ConfChangeAddNode, NodeId: 3}}}, "propose v3"
	}
	if err := leader.ProposeConfChange(cc); err != nil && !errors.Is(err, raft.ErrProposalDropped) {
		t.Fatal(err)
	}
	return action
}

// checkProgressBacked checks the leader's progress against its followers'
// disks.
func checkProgressBacked(env *rafttest.InteractionEnv) string {
	leader := env.Nodes[0]
	st := leader.Status()
	if st.RaftState != raft.StateLeader {
		return "node 1 lost leadership"
	}
	for id, pr := range st.Progress {
		if id == 1 || pr.Match == 0 {
			continue
		}
		s := env.Nodes[id-1].Storage
		last, err := s.LastIndex()
		if err != nil {
			return err.Error()
		}
		if pr.Match > last {
			return fmt.Sprintf("leader has match %d for node %d, whose disk ends at %d", pr.Match, id, last)
		}
		ft, ferr := s.Term(pr.Match)
		lt, lerr := leader.Storage.Term(pr.Match)
		if ferr == nil && lerr == nil && ft != lt {
			return fmt.Sprintf("leader has match %d for node %d, whose entry there is of term %d, not %d", pr.Match, id, ft, lt)
		}
	}
	return ""
}
