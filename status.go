package raft

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/seed901663da/raft/progress"
)

// BasicStatus is the node's state without the leader's progress map. It is
// cheap: RawNode.BasicStatus does not allocate.
type BasicStatus struct {
	ID uint64 `json:"id"`
	// Term, Vote and Commit are the node's hard state.
	Term   uint64 `json:"term"`
	Vote   uint64 `json:"vote"`
	Commit uint64 `json:"commit"`
	SoftState
	Applied        uint64 `json:"applied"`
	LeadTransferee uint64 `json:"lead_transferee"`
}

// Status adds the configuration and, on the leader, every peer's progress.
type Status struct {
	BasicStatus
	Config   progress.Config
	Progress map[uint64]progress.Progress
}

func getBasicStatus(r *raft) BasicStatus {
	return BasicStatus{
		ID:             r.id,
		Term:           r.Term,
		Vote:           r.Vote,
		Commit:         r.raftLog.committed,
		SoftState:      r.softState(),
		Applied:        r.raftLog.applied,
		LeadTransferee: r.leadTransferee,
	}
}

func getStatus(r *raft) Status {
	s := Status{BasicStatus: getBasicStatus(r), Config: r.trk.Config.Clone()}
	if s.RaftState == StateLeader {
		s.Progress = make(map[uint64]progress.Progress, len(r.trk.Progress))
		r.trk.Visit(func(id uint64, pr *progress.Progress) {
			p := *pr
			p.Inflights = pr.Inflights.Clone()
			s.Progress[id] = p
		})
	}
	return s
}

// Status returns the node's current status, with a copy of the progress
// map on the leader.
func (rn *RawNode) Status() Status { return getStatus(rn.raft) }

// BasicStatus returns the node's status without the progress map. It
// does not allocate.
func (rn *RawNode) BasicStatus() BasicStatus { return getBasicStatus(rn.raft) }

// ProgressType says whether a progress record is a peer or a learner's.
type ProgressType byte

const (
	ProgressTypePeer ProgressType = iota
	ProgressTypeLearner
)

// WithProgress calls visitor for every peer's progress on the leader, in
// ID order, without copying the map. The Progress must not be retained or
// modified. It does nothing on other nodes.
func (rn *RawNode) WithProgress(visitor func(id uint64, typ ProgressType, pr progress.Progress)) {
	if rn.raft.state != StateLeader {
		// Other roles keep progress records too, but nothing fills them.
		return
	}
	rn.raft.trk.Visit(func(id uint64, pr *progress.Progress) {
		typ := ProgressTypePeer
		if pr.IsLearner {
			typ = ProgressTypeLearner
		}
		p := *pr
		p.Inflights = nil
		visitor(id, typ, p)
	})
}

type progressJSON struct {
	Match   uint64 `json:"match"`
	Next    uint64 `json:"next"`
	State   string `json:"state"`
	Learner bool   `json:"learner,omitempty"`
}

// MarshalJSON renders the status with its progress map keyed by hex-free
// decimal IDs, for HTTP status endpoints.
func (s Status) MarshalJSON() ([]byte, error) {
	type out struct {
		BasicStatus
		Config   string                  `json:"config"`
		Progress map[string]progressJSON `json:"progress,omitempty"`
	}
	o := out{BasicStatus: s.BasicStatus, Config: s.Config.String()}
	if len(s.Progress) > 0 {
		o.Progress = make(map[string]progressJSON, len(s.Progress))
		for id, pr := range s.Progress {
			o.Progress[fmt.Sprint(id)] = progressJSON{Match: pr.Match, Next: pr.Next, State: pr.State.String(), Learner: pr.IsLearner}
		}
	}
	return json.Marshal(o)
}

func (s BasicStatus) String() string {
	return fmt.Sprintf("id=%d term=%d vote=%d commit=%d applied=%d lead=%d state=%s",
		s.ID, s.Term, s.Vote, s.Commit, s.Applied, s.Lead, s.RaftState)
}

func (s Status) String() string {
	var b strings.Builder
	b.WriteString(s.BasicStatus.String())
	fmt.Fprintf(&b, " config=%s", s.Config)
	ids := make([]uint64, 0, len(s.Progress))
	for id := range s.Progress {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		pr := s.Progress[id]
		fmt.Fprintf(&b, "\n  %d: %s", id, &pr)
	}
	return b.String()
}
