package raftpb

import (
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
)

func TestConfStateEquivalent(t *testing.T) {
	tests := []struct {
		name string
		a, b *ConfState
		want bool
	}{
		{"nil and nil", nil, nil, true},
		{"nil and zero", nil, &ConfState{}, true},
		{"nil and empty slices", &ConfState{Voters: []uint64{}, Learners: []uint64{}}, nil, true},
		{"same order", &ConfState{Voters: []uint64{1, 2, 3}}, &ConfState{Voters: []uint64{1, 2, 3}}, true},
		{"order ignored in every list",
			&ConfState{Voters: []uint64{3, 1, 2}, VotersOutgoing: []uint64{5, 4}, Learners: []uint64{7, 6}, LearnersNext: []uint64{9, 8}, AutoLeave: true},
			&ConfState{Voters: []uint64{1, 2, 3}, VotersOutgoing: []uint64{4, 5}, Learners: []uint64{6, 7}, LearnersNext: []uint64{8, 9}, AutoLeave: true},
			true},
		{"voters differ", &ConfState{Voters: []uint64{1, 2}}, &ConfState{Voters: []uint64{1, 3}}, false},
		{"voter missing", &ConfState{Voters: []uint64{1, 2}}, &ConfState{Voters: []uint64{1}}, false},
		{"duplicates count", &ConfState{Voters: []uint64{1, 1, 2}}, &ConfState{Voters: []uint64{1, 2}}, false},
		{"outgoing differs", &ConfState{VotersOutgoing: []uint64{1}}, &ConfState{}, false},
		{"learners differ", &ConfState{Learners: []uint64{1}}, &ConfState{}, false},
		{"learners next differ", &ConfState{LearnersNext: []uint64{1}}, &ConfState{}, false},
		{"lists are not interchangeable", &ConfState{Voters: []uint64{1}}, &ConfState{Learners: []uint64{1}}, false},
		{"auto leave differs", &ConfState{AutoLeave: true}, &ConfState{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			aBefore, bBefore := proto.Clone(tt.a), proto.Clone(tt.b)
			for _, pair := range [][2]*ConfState{{tt.a, tt.b}, {tt.b, tt.a}} {
				err := pair[0].Equivalent(pair[1])
				if (err == nil) != tt.want {
					t.Errorf("Equivalent(%v, %v) = %v, want equivalent=%t", pair[0], pair[1], err, tt.want)
				}
			}
			if !proto.Equal(tt.a, aBefore) || !proto.Equal(tt.b, bBefore) {
				t.Errorf("Equivalent modified its inputs: %v, %v", tt.a, tt.b)
			}
		})
	}
}

func TestConfStateEquivalentDoesNotSortInPlace(t *testing.T) {
	voters := []uint64{3, 1, 2}
	a := &ConfState{Voters: voters}
	if err := a.Equivalent(&ConfState{Voters: []uint64{1, 2, 3}}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(voters, []uint64{3, 1, 2}) {
		t.Errorf("voters reordered to %v", voters)
	}
}

func TestConfStateEquivalentError(t *testing.T) {
	a := &ConfState{Voters: []uint64{2, 1}, AutoLeave: true}
	b := &ConfState{Voters: []uint64{3, 1}, Learners: []uint64{4}}
	err := a.Equivalent(b)
	if err == nil {
		t.Fatal("expected an error")
	}
	want := "raftpb: ConfStates differ:\n" +
		"  Voters:[1 2] VotersOutgoing:[] Learners:[] LearnersNext:[] AutoLeave:true\n" +
		"  Voters:[1 3] VotersOutgoing:[] Learners:[4] LearnersNext:[] AutoLeave:false"
	if got := err.Error(); got != want {
		t.Errorf("error:\n%s\nwant:\n%s", got, want)
	}
	if !strings.Contains(err.Error(), "Learners:[4]") {
		t.Error("error does not show the second configuration")
	}
}
