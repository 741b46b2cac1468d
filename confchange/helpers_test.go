package confchange

import (
	"fmt"
	"reflect"

	"github.com/seed901663da/raft/progress"
)

// trackerSnapshot is a deep copy of everything a Changer could reach in its
// tracker, taken before a call so that the tracker can be compared after it.
type trackerSnapshot struct {
	cfg      progress.Config
	ptrs     map[uint64]*progress.Progress // which Progress each ID points to
	values   map[uint64]progress.Progress  // and what that Progress holds
	votes    map[uint64]bool
	inflight int
	bytes    uint64
}

func snapshotTracker(tr progress.Tracker) trackerSnapshot {
	s := trackerSnapshot{
		cfg:      tr.Config.Clone(),
		ptrs:     map[uint64]*progress.Progress{},
		values:   map[uint64]progress.Progress{},
		votes:    map[uint64]bool{},
		inflight: tr.MaxInflight,
		bytes:    tr.MaxInflightBytes,
	}
	for id, pr := range tr.Progress {
		s.ptrs[id] = pr
		if pr != nil {
			s.values[id] = *pr
		}
	}
	for id, v := range tr.Votes {
		s.votes[id] = v
	}
	return s
}

// diffTracker describes how b differs from a, or returns "" if it does not.
func diffTracker(a, b trackerSnapshot) string {
	switch {
	case !reflect.DeepEqual(a.cfg, b.cfg):
		return fmt.Sprintf("config %s became %s", a.cfg, b.cfg)
	case !reflect.DeepEqual(a.ptrs, b.ptrs):
		return fmt.Sprintf("progress map %v became %v", a.ptrs, b.ptrs)
	case !reflect.DeepEqual(a.values, b.values):
		return fmt.Sprintf("progress %+v became %+v", a.values, b.values)
	case !reflect.DeepEqual(a.votes, b.votes):
		return fmt.Sprintf("votes %v became %v", a.votes, b.votes)
	case a.inflight != b.inflight || a.bytes != b.bytes:
		return "inflight limits changed"
	}
	return ""
}
