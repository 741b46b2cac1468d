package etcd37

import (
	"testing"

	raft "go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/seed901663da/raft/bench/benchkit"
)

// BenchmarkFollowerStep measures what a follower spends on one MsgApp
// carrying 64 entries (workload 4): Step, then one Ready handled (entries
// appended, hard state set, the entries committed by the previous message
// applied) and Advance. Messages are built in chunks outside the timed
// region. b.N counts messages; the per-entry metrics divide by 64 more.
func BenchmarkFollowerStep(b *testing.B) {
	const entsPerMsg, chunk = 64, 128
	st := &store{ms: raft.NewMemoryStorage()}
	rn, err := raft.NewRawNode(newConfig(2, st.ms))
	if err != nil {
		b.Fatal(err)
	}
	if err := rn.Bootstrap(peers(3)); err != nil {
		b.Fatal(err)
	}
	follow := func(m *raftpb.Message) {
		if m != nil {
			if err := rn.Step(m); err != nil {
				b.Fatal(err)
			}
		}
		rd := rn.Ready()
		if err := st.persist(rd.HardState, rd.Entries); err != nil {
			b.Fatal(err)
		}
		if _, err := st.apply(rd.CommittedEntries); err != nil {
			b.Fatal(err)
		}
		rn.Advance(rd)
	}
	follow(nil) // the bootstrap entries
	last, err := st.ms.LastIndex()
	if err != nil {
		b.Fatal(err)
	}
	const term = 2
	lastTerm := uint64(1)
	data := make([]byte, benchkit.PayloadSize)
	msgs := make([]*raftpb.Message, 0, chunk)
	build := func(n int) {
		msgs = msgs[:0]
		for range n {
			ents := make([]*raftpb.Entry, entsPerMsg)
			for j := range ents {
				ents[j] = &raftpb.Entry{Term: new(uint64(term)), Index: new(last + 1 + uint64(j)), Data: data}
			}
			msgs = append(msgs, &raftpb.Message{
				Type: raftpb.MsgApp.Enum(), From: new(uint64(1)), To: new(uint64(2)), Term: new(uint64(term)),
				LogTerm: new(lastTerm), Index: new(last), Commit: new(last), Entries: ents,
			})
			last += entsPerMsg
			lastTerm = term
		}
	}
	build(min(chunk, b.N))
	m := benchkit.StartMeter(b)
	for i := 0; i < b.N; i++ {
		if i%chunk == 0 && i > 0 {
			m.Pause()
			build(min(chunk, b.N-i))
			m.Resume()
		}
		follow(msgs[i%chunk])
	}
	m.Report(b.N*entsPerMsg, "entry", "entries")
	b.ReportMetric(float64(m.Elapsed().Nanoseconds())/float64(b.N), "ns/msg")
	if st.applied < last-entsPerMsg {
		b.Fatalf("applied %d, want at least %d", st.applied, last-entsPerMsg)
	}
}
