package sim

import (
	"math"

	"github.com/seed901663da/raft"
	"github.com/seed901663da/raft/raftpb"
)

// disk is a node's stable storage. Raft reads it through the
// MemoryStorage; writes land in it at once, as in an OS page cache, but
// only a synced write survives a crash. Entries, votes and terms are
// always written with a sync (Ready.MustSync says so); a hard state that
// only moves the commit index may be written without one, and a crash
// then takes it back to the last synced hard state.
type disk struct {
	ms     *raft.MemoryStorage
	cur    *raftpb.HardState
	synced *raftpb.HardState
	// past holds recent synced states, for the lossy-disk mutation.
	past []diskState
}

// diskState is a complete durable state: what a lossy disk may go back
// to. MemoryStorage never modifies returned slices, so keeping them is
// cheap.
type diskState struct {
	snap *raftpb.Snapshot
	ents []*raftpb.Entry
	hs   *raftpb.HardState
}

func newDisk() *disk {
	hs := &raftpb.HardState{}
	return &disk{ms: raft.NewMemoryStorage(), cur: hs, synced: hs}
}

func (d *disk) write(hs *raftpb.HardState, ents []*raftpb.Entry, snap *raftpb.Snapshot, sync bool) error {
	if snap != nil {
		if err := d.ms.ApplySnapshot(snap); err != nil {
			return err
		}
	}
	if err := d.ms.Append(ents); err != nil {
		return err
	}
	if hs != nil {
		if err := d.ms.SetHardState(hs); err != nil {
			return err
		}
		d.cur = hs
	}
	if sync {
		d.synced = d.cur
		if mutDiskLosesWrites() {
			d.remember()
		}
	}
	return nil
}

// sync makes every write so far durable.
func (d *disk) sync() {
	d.synced = d.cur
	if mutDiskLosesWrites() {
		d.remember()
	}
}

// crash drops what was written since the last sync.
func (d *disk) crash() {
	if mutDiskLosesWrites() && d.rollBack() {
		return
	}
	if d.cur != d.synced {
		_ = d.ms.SetHardState(d.synced)
		d.cur = d.synced
	}
}

// remember keeps the current state as one a lossy disk may return to.
func (d *disk) remember() {
	snap, _ := d.ms.Snapshot()
	first, _ := d.ms.FirstIndex()
	last, _ := d.ms.LastIndex()
	ents, _ := d.ms.Entries(first, last+1, math.MaxUint64)
	d.past = append(d.past, diskState{snap: snap, ents: ents, hs: d.synced})
	if len(d.past) > 4 {
		d.past = d.past[1:]
	}
}

// rollBack replaces the storage with the oldest remembered state: the
// writes since were acknowledged, and are now lost.
func (d *disk) rollBack() bool {
	if len(d.past) < 2 {
		return false
	}
	st := d.past[0]
	d.past = nil
	ms := raft.NewMemoryStorage()
	if st.snap.GetMetadata().GetIndex() > 0 {
		if err := ms.ApplySnapshot(st.snap); err != nil {
			return false
		}
	}
	if err := ms.Append(st.ents); err != nil {
		return false
	}
	_ = ms.SetHardState(st.hs)
	d.ms, d.cur, d.synced = ms, st.hs, st.hs
	return true
}
