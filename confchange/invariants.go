package confchange

import (
	"fmt"

	"github.com/seed901663da/raft/progress"
	"github.com/seed901663da/raft/quorum"
)

// checkInvariants reports the first violation (lowest node ID first, so
// messages are deterministic) of the rules every configuration obeys:
//
//  1. Every voter (of either half), learner and learner-next has a
//     Progress, and every Progress belongs to one of them.
//  2. A node is never both a voter and a learner: learners are in neither
//     half. A voter of the outgoing half that is being demoted waits in
//     LearnersNext instead.
//  3. LearnersNext holds only voters of the outgoing half that are not
//     voters of the incoming half.
//  4. Outside a joint configuration, LearnersNext is empty and AutoLeave is
//     false: both only describe how to leave one.
//  5. Progress.IsLearner is true exactly for the learners.
//
// Violations are wrapped in [ErrInvariant].
func checkInvariants(cfg progress.Config, prs progress.ProgressMap) error {
	in, out := cfg.Voters[0], cfg.Voters[1]
	for _, id := range quorum.MajorityConfig(cfg.Voters.IDs()).Slice() {
		pr := prs[id]
		if pr == nil {
			return fmt.Errorf("%w: voter %d has no progress", ErrInvariant, id)
		}
		if pr.IsLearner {
			return fmt.Errorf("%w: voter %d has a learner's progress", ErrInvariant, id)
		}
	}
	for _, id := range quorum.MajorityConfig(cfg.Learners).Slice() {
		if _, ok := in[id]; ok {
			return fmt.Errorf("%w: node %d is both a learner and an incoming voter", ErrInvariant, id)
		}
		if _, ok := out[id]; ok {
			return fmt.Errorf("%w: node %d is both a learner and an outgoing voter", ErrInvariant, id)
		}
		pr := prs[id]
		if pr == nil {
			return fmt.Errorf("%w: learner %d has no progress", ErrInvariant, id)
		}
		if !pr.IsLearner {
			return fmt.Errorf("%w: learner %d has a voter's progress", ErrInvariant, id)
		}
	}
	for _, id := range quorum.MajorityConfig(cfg.LearnersNext).Slice() {
		if _, ok := out[id]; !ok {
			return fmt.Errorf("%w: next learner %d is not an outgoing voter", ErrInvariant, id)
		}
		if _, ok := in[id]; ok {
			return fmt.Errorf("%w: next learner %d is also an incoming voter", ErrInvariant, id)
		}
	}
	if len(out) == 0 {
		if len(cfg.LearnersNext) > 0 {
			return fmt.Errorf("%w: next learners %s outside a joint config",
				ErrInvariant, quorum.MajorityConfig(cfg.LearnersNext))
		}
		if cfg.AutoLeave {
			return fmt.Errorf("%w: auto-leave set outside a joint config", ErrInvariant)
		}
	}
	ids := make(quorum.MajorityConfig, len(prs))
	for id := range prs {
		ids[id] = struct{}{}
	}
	for _, id := range ids.Slice() {
		_, learner := cfg.Learners[id]
		_, voterIn := in[id]
		_, voterOut := out[id]
		if !learner && !voterIn && !voterOut {
			return fmt.Errorf("%w: node %d has progress but is neither voter nor learner", ErrInvariant, id)
		}
	}
	return nil
}
