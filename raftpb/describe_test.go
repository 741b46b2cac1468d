package raftpb

import (
	"math"
	"strings"
	"testing"
)

// ccEntry builds a conf change entry at term/index from cc.
func ccEntry(t *testing.T, term, index uint64, cc ConfChangeI) *Entry {
	t.Helper()
	typ, data, err := MarshalConfChange(cc)
	if err != nil {
		t.Fatal(err)
	}
	return &Entry{Term: term, Index: index, Type: typ, Data: data}
}

// v2 builds a ConfChangeV2 from the compact syntax.
func v2(t *testing.T, s string, tr ConfChangeTransition, ctx string) *ConfChangeV2 {
	t.Helper()
	ccs, err := ConfChangesFromString(s)
	if err != nil {
		t.Fatal(err)
	}
	cc := &ConfChangeV2{Changes: ccs, Transition: tr}
	if ctx != "" {
		cc.Context = []byte(ctx)
	}
	return cc
}

func upper(b []byte) string { return strings.ToUpper(string(b)) }

func TestDescribeEntry(t *testing.T) {
	tests := []struct {
		e    *Entry
		f    EntryFormatter
		want string
	}{
		{nil, nil, "<nil>"},
		{&Entry{}, nil, `0/0 EntryNormal ""`},
		{&Entry{Term: 1, Index: 5, Data: []byte("foo")}, nil, `1/5 EntryNormal "foo"`},
		{&Entry{Term: 1, Index: 5, Data: []byte("a\x00\"b")}, nil, `1/5 EntryNormal "a\x00\"b"`},
		{&Entry{Term: 1, Index: 5, Data: []byte("foo")}, upper, `1/5 EntryNormal FOO`},
		{ccEntry(t, 2, 6, &ConfChange{Type: ConfChangeAddNode, NodeId: 3}), upper, `2/6 EntryConfChange v3`},
		{ccEntry(t, 2, 6, &ConfChange{Type: ConfChangeRemoveNode, NodeId: 3, Id: 12, Context: []byte("why")}), nil,
			`2/6 EntryConfChange r3 ID:12 Context:"why"`},
		{ccEntry(t, 2, 7, v2(t, "v3 l4", ConfChangeTransitionAuto, "")), nil, `2/7 EntryConfChangeV2 v3 l4`},
		{ccEntry(t, 2, 7, v2(t, "r1 u2", ConfChangeTransitionJointExplicit, "ctx")), nil,
			`2/7 EntryConfChangeV2 r1 u2 Transition:JointExplicit Context:"ctx"`},
		{ccEntry(t, 2, 7, v2(t, "v9", ConfChangeTransitionJointImplicit, "")), nil,
			`2/7 EntryConfChangeV2 v9 Transition:JointImplicit`},
		{ccEntry(t, 3, 8, &ConfChangeV2{}), nil, `3/8 EntryConfChangeV2`},
		{&Entry{Term: 3, Index: 9, Type: EntryConfChangeV2, Data: []byte{0xff}}, nil, `3/9 EntryConfChangeV2 <malformed> "\xff"`},
		{&Entry{Term: 3, Index: 9, Type: 7, Data: []byte("?")}, nil, `3/9 7 "?"`},
	}
	for _, tt := range tests {
		if got := DescribeEntry(tt.e, tt.f); got != tt.want {
			t.Errorf("DescribeEntry(%v)\n got: %s\nwant: %s", tt.e, got, tt.want)
		}
	}
}

func TestDescribeEntries(t *testing.T) {
	if got := DescribeEntries(nil, nil); got != "" {
		t.Errorf("no entries: got %q", got)
	}
	ents := []*Entry{
		{Term: 1, Index: 1},
		{Term: 1, Index: 2, Data: []byte("x")},
		ccEntry(t, 2, 3, v2(t, "v2 v3", ConfChangeTransitionAuto, "")),
	}
	want := "1/1 EntryNormal \"\"\n" +
		"1/2 EntryNormal \"x\"\n" +
		"2/3 EntryConfChangeV2 v2 v3\n"
	if got := DescribeEntries(ents, nil); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestDescribeMessage(t *testing.T) {
	snap := &Snapshot{
		Data: []byte("state"),
		Metadata: &SnapshotMetadata{Index: 10, Term: 2, ConfState: &ConfState{
			Voters: []uint64{1, 2, 3}, Learners: []uint64{4},
		}},
	}
	tests := []struct {
		name string
		m    *Message
		f    EntryFormatter
		want string
	}{
		{"nil", nil, nil, "<nil>"},
		{"zero", &Message{}, nil, "0->0 MsgHup Term:0 Log:0/0"},
		{"append", &Message{
			Type: MsgApp, From: 1, To: 2, Term: 3, LogTerm: 2, Index: 10, Commit: 9,
			Entries: []*Entry{{Term: 3, Index: 11, Data: []byte("x")}},
		}, nil, `1->2 MsgApp Term:3 Log:2/10 Commit:9 Entries:[3/11 EntryNormal "x"]`},
		{"entries use the formatter and are comma separated", &Message{
			Type: MsgApp, From: 1, To: 2, Term: 3,
			Entries: []*Entry{{Term: 3, Index: 11, Data: []byte("x")}, {Term: 3, Index: 12, Data: []byte("y")}},
		}, upper, `1->2 MsgApp Term:3 Log:0/0 Entries:[3/11 EntryNormal X, 3/12 EntryNormal Y]`},
		{"reject with zero hint", &Message{Type: MsgAppResp, From: 2, To: 1, Term: 3, Index: 10, Reject: true}, nil,
			`2->1 MsgAppResp Term:3 Log:0/10 Reject:true RejectHint:0`},
		{"reject with hint", &Message{Type: MsgAppResp, From: 2, To: 1, Term: 3, LogTerm: 1, Index: 10, Reject: true, RejectHint: 7}, nil,
			`2->1 MsgAppResp Term:3 Log:1/10 Reject:true RejectHint:7`},
		{"vote and epoch", &Message{Type: MsgVote, From: 1, To: 3, Term: 5, LogTerm: 4, Index: 20, Epoch: 2}, nil,
			`1->3 MsgVote Term:5 Log:4/20 Epoch:2`},
		{"storage append vote", &Message{Type: MsgStorageAppend, From: 1, Term: 5, Vote: 1, Commit: 3}, nil,
			`1->0 MsgStorageAppend Term:5 Log:0/0 Commit:3 Vote:1`},
		{"storage threads by name", &Message{Type: MsgStorageApply, From: 1, To: math.MaxUint64 - 1,
			Responses: []*Message{{Type: MsgStorageApplyResp, From: math.MaxUint64 - 1, To: 1}}}, nil,
			`1->ApplyThread MsgStorageApply Term:0 Log:0/0 Responses:[ApplyThread->1 MsgStorageApplyResp Term:0 Log:0/0]`},
		{"append thread by name", &Message{Type: MsgStorageAppend, From: 1, To: math.MaxUint64}, nil,
			`1->AppendThread MsgStorageAppend Term:0 Log:0/0`},
		{"snapshot", &Message{Type: MsgSnap, From: 1, To: 2, Term: 2, Snapshot: snap}, nil,
			`1->2 MsgSnap Term:2 Log:0/0 Snapshot:{Index:10 Term:2 ConfState:{Voters:[1 2 3] VotersOutgoing:[] Learners:[4] LearnersNext:[] AutoLeave:false}}`},
		{"empty snapshot is left out", &Message{Type: MsgSnap, From: 1, To: 2, Snapshot: &Snapshot{Metadata: &SnapshotMetadata{Term: 2}}}, nil,
			`1->2 MsgSnap Term:0 Log:0/0`},
		{"context", &Message{Type: MsgReadIndex, From: 2, To: 1, Context: []byte("req-1")}, nil,
			`2->1 MsgReadIndex Term:0 Log:0/0 Context:"req-1"`},
		{"responses nest", &Message{
			Type: MsgStorageApply, From: 1, To: 0, Term: 2, Index: 4,
			Entries: []*Entry{{Term: 2, Index: 4, Data: []byte("a")}},
			Responses: []*Message{
				{Type: MsgStorageApplyResp, From: 0, To: 1, Term: 2, Index: 4,
					Entries: []*Entry{{Term: 2, Index: 4, Data: []byte("a")}}},
				{Type: MsgAppResp, From: 1, To: 2, Term: 2, Index: 4},
			},
		}, upper, `1->0 MsgStorageApply Term:2 Log:0/4 Entries:[2/4 EntryNormal A] Responses:[` +
			`0->1 MsgStorageApplyResp Term:2 Log:0/4 Entries:[2/4 EntryNormal A], 1->2 MsgAppResp Term:2 Log:0/4]`},
		{"unknown type", &Message{Type: 99, From: 1, To: 2}, nil, `1->2 99 Term:0 Log:0/0`},
		{"large ids", &Message{Type: MsgHeartbeat, From: 18446744073709551613, To: 1 << 40, Term: 1}, nil,
			`18446744073709551613->1099511627776 MsgHeartbeat Term:1 Log:0/0`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DescribeMessage(tt.m, tt.f); got != tt.want {
				t.Errorf("\n got: %s\nwant: %s", got, tt.want)
			}
		})
	}
}

func TestDescribeHardState(t *testing.T) {
	for _, tt := range []struct {
		hs   *HardState
		want string
	}{
		{nil, "Term:0 Vote:0 Commit:0"},
		{&HardState{Term: 1, Vote: 2, Commit: 3}, "Term:1 Vote:2 Commit:3"},
	} {
		if got := DescribeHardState(tt.hs); got != tt.want {
			t.Errorf("DescribeHardState(%v) = %q, want %q", tt.hs, got, tt.want)
		}
	}
}

func TestDescribeConfState(t *testing.T) {
	for _, tt := range []struct {
		cs   *ConfState
		want string
	}{
		{nil, "Voters:[] VotersOutgoing:[] Learners:[] LearnersNext:[] AutoLeave:false"},
		{&ConfState{Voters: []uint64{1, 2, 3}}, "Voters:[1 2 3] VotersOutgoing:[] Learners:[] LearnersNext:[] AutoLeave:false"},
		{&ConfState{Voters: []uint64{3, 4}, VotersOutgoing: []uint64{1, 2, 3}, Learners: []uint64{5}, LearnersNext: []uint64{2}, AutoLeave: true},
			"Voters:[3 4] VotersOutgoing:[1 2 3] Learners:[5] LearnersNext:[2] AutoLeave:true"},
	} {
		if got := DescribeConfState(tt.cs); got != tt.want {
			t.Errorf("DescribeConfState(%v)\n got: %s\nwant: %s", tt.cs, got, tt.want)
		}
	}
}

func TestDescribeSnapshot(t *testing.T) {
	for _, tt := range []struct {
		s    *Snapshot
		want string
	}{
		{nil, "Index:0 Term:0 ConfState:{Voters:[] VotersOutgoing:[] Learners:[] LearnersNext:[] AutoLeave:false}"},
		{&Snapshot{Data: []byte("ignored"), Metadata: &SnapshotMetadata{Index: 10, Term: 2, ConfState: &ConfState{Voters: []uint64{1}}}},
			"Index:10 Term:2 ConfState:{Voters:[1] VotersOutgoing:[] Learners:[] LearnersNext:[] AutoLeave:false}"},
	} {
		if got := DescribeSnapshot(tt.s); got != tt.want {
			t.Errorf("DescribeSnapshot(%v)\n got: %s\nwant: %s", tt.s, got, tt.want)
		}
	}
}

func BenchmarkDescribeMessage(b *testing.B) {
	m := &Message{Type: MsgApp, From: 1, To: 2, Term: 3, LogTerm: 2, Index: 10, Commit: 9}
	for i := range 8 {
		m.Entries = append(m.Entries, &Entry{Term: 3, Index: uint64(11 + i), Data: []byte("payload")})
	}
	for b.Loop() {
		_ = DescribeMessage(m, nil)
	}
}
