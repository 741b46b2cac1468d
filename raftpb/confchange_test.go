package raftpb

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
)

func TestConfChangeAsV2(t *testing.T) {
	cc := &ConfChange{Type: ConfChangeAddLearnerNode, NodeId: 7, Context: []byte("ctx"), Id: 99}
	want := &ConfChangeV2{
		Changes: []*ConfChangeSingle{{Type: ConfChangeAddLearnerNode, NodeId: 7}},
		Context: []byte("ctx"),
	}
	if got := cc.AsV2(); !proto.Equal(got, want) {
		t.Errorf("AsV2() = %v, want %v", got, want)
	}
	if v1, ok := cc.AsV1(); !ok || v1 != cc {
		t.Errorf("ConfChange.AsV1() = %p, %t; want the receiver and true", v1, ok)
	}
	if got := (*ConfChange)(nil).AsV2(); !proto.Equal(got, &ConfChangeV2{Changes: []*ConfChangeSingle{{}}}) {
		t.Errorf("nil ConfChange AsV2() = %v, want one zero change", got)
	}
}

func TestConfChangeV2AsV1(t *testing.T) {
	for _, cc := range []*ConfChangeV2{
		{},
		{Changes: []*ConfChangeSingle{{Type: ConfChangeAddNode, NodeId: 1}}},
		{Changes: []*ConfChangeSingle{{NodeId: 1}, {NodeId: 2}}, Transition: ConfChangeTransitionJointExplicit},
	} {
		if v1, ok := cc.AsV1(); ok || v1 != nil {
			t.Errorf("%v AsV1() = %v, %t; want nil, false", cc, v1, ok)
		}
		if cc.AsV2() != cc {
			t.Errorf("ConfChangeV2.AsV2() did not return the receiver")
		}
	}
}

func TestMarshalConfChange(t *testing.T) {
	tests := []struct {
		name     string
		cc       ConfChangeI
		wantType EntryType
	}{
		{"v1", &ConfChange{Type: ConfChangeRemoveNode, NodeId: 3, Id: 5}, EntryConfChange},
		{"v1 zero", &ConfChange{}, EntryConfChange},
		{"v2", &ConfChangeV2{
			Transition: ConfChangeTransitionJointImplicit,
			Changes:    []*ConfChangeSingle{{Type: ConfChangeAddNode, NodeId: 1}, {Type: ConfChangeRemoveNode, NodeId: 2}},
			Context:    []byte("c"),
		}, EntryConfChangeV2},
		{"v2 leave joint", &ConfChangeV2{}, EntryConfChangeV2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ, data, err := MarshalConfChange(tt.cc)
			if err != nil {
				t.Fatal(err)
			}
			if typ != tt.wantType {
				t.Errorf("type = %s, want %s", typ, tt.wantType)
			}
			got, err := UnmarshalConfChange(typ, data)
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got.(proto.Message), tt.cc.(proto.Message)) {
				t.Errorf("round trip gave %v, want %v", got, tt.cc)
			}
		})
	}
}

func TestMarshalConfChangeNil(t *testing.T) {
	for _, cc := range []ConfChangeI{nil, (*ConfChange)(nil), (*ConfChangeV2)(nil)} {
		if _, _, err := MarshalConfChange(cc); !errors.Is(err, ErrNilConfChange) {
			t.Errorf("MarshalConfChange(%#v) error = %v, want ErrNilConfChange", cc, err)
		}
	}
}

func TestUnmarshalConfChangeErrors(t *testing.T) {
	if _, err := UnmarshalConfChange(EntryNormal, nil); !errors.Is(err, ErrNotConfChange) {
		t.Errorf("EntryNormal: error = %v, want ErrNotConfChange", err)
	}
	garbage := []byte{0xff, 0xff, 0xff}
	for _, typ := range []EntryType{EntryConfChange, EntryConfChangeV2} {
		if _, err := UnmarshalConfChange(typ, garbage); err == nil {
			t.Errorf("%s: decoding garbage succeeded", typ)
		}
	}
}

func TestEnterLeaveJoint(t *testing.T) {
	one := []*ConfChangeSingle{{Type: ConfChangeAddNode, NodeId: 1}}
	two := []*ConfChangeSingle{{Type: ConfChangeAddNode, NodeId: 1}, {Type: ConfChangeAddNode, NodeId: 2}}
	tests := []struct {
		name          string
		cc            *ConfChangeV2
		wantAutoLeave bool
		wantJoint     bool
		wantLeave     bool
	}{
		{"nil", nil, false, false, true},
		{"zero leaves joint", &ConfChangeV2{}, false, false, true},
		{"zero with context still leaves", &ConfChangeV2{Context: []byte("x")}, false, false, true},
		{"auto single is simple", &ConfChangeV2{Changes: one}, false, false, false},
		{"auto many is joint and auto-leaves", &ConfChangeV2{Changes: two}, true, true, false},
		{"implicit single", &ConfChangeV2{Changes: one, Transition: ConfChangeTransitionJointImplicit}, true, true, false},
		{"implicit many", &ConfChangeV2{Changes: two, Transition: ConfChangeTransitionJointImplicit}, true, true, false},
		{"explicit single", &ConfChangeV2{Changes: one, Transition: ConfChangeTransitionJointExplicit}, false, true, false},
		{"explicit many", &ConfChangeV2{Changes: two, Transition: ConfChangeTransitionJointExplicit}, false, true, false},
		{"explicit empty is not a leave", &ConfChangeV2{Transition: ConfChangeTransitionJointExplicit}, false, true, false},
		{"unknown transition stays joint", &ConfChangeV2{Changes: one, Transition: 42}, false, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			autoLeave, ok := tt.cc.EnterJoint()
			if autoLeave != tt.wantAutoLeave || ok != tt.wantJoint {
				t.Errorf("EnterJoint() = %t, %t; want %t, %t", autoLeave, ok, tt.wantAutoLeave, tt.wantJoint)
			}
			if got := tt.cc.LeaveJoint(); got != tt.wantLeave {
				t.Errorf("LeaveJoint() = %t, want %t", got, tt.wantLeave)
			}
		})
	}
}

func TestConfChangesFromString(t *testing.T) {
	tests := []struct {
		in      string
		want    []*ConfChangeSingle
		wantErr string // substring of the error; empty means success
	}{
		{in: ""},
		{in: "  \t\n "},
		{in: "v1", want: []*ConfChangeSingle{{Type: ConfChangeAddNode, NodeId: 1}}},
		{in: "v2 l3 r4 u5", want: []*ConfChangeSingle{
			{Type: ConfChangeAddNode, NodeId: 2},
			{Type: ConfChangeAddLearnerNode, NodeId: 3},
			{Type: ConfChangeRemoveNode, NodeId: 4},
			{Type: ConfChangeUpdateNode, NodeId: 5},
		}},
		{in: " r10\tv18446744073709551615 ", want: []*ConfChangeSingle{
			{Type: ConfChangeRemoveNode, NodeId: 10},
			{Type: ConfChangeAddNode, NodeId: 18446744073709551615},
		}},
		{in: "x1", wantErr: `"x1": unknown operation "x"`},
		{in: "V1", wantErr: `unknown operation "V"`},
		{in: "é1", wantErr: `unknown operation "é"`},
		{in: "1", wantErr: `unknown operation "1"`},
		{in: "v1 l", wantErr: `"l": missing node id after "l"`},
		{in: "v", wantErr: "missing node id"},
		{in: "vx", wantErr: `node id "x" is not a decimal number`},
		{in: "v1x", wantErr: `node id "1x" is not a decimal number`},
		{in: "v-1", wantErr: "not a decimal number"},
		{in: "v+1", wantErr: "not a decimal number"},
		{in: "v01", wantErr: "leading zero"},
		{in: "v0", wantErr: "node id 0 is reserved"},
		{in: "v18446744073709551616", wantErr: "overflows uint64"},
		{in: "v1,l2", wantErr: "not a decimal number"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ConfChangesFromString(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				if got != nil {
					t.Errorf("got %v alongside an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d changes %v, want %v", len(got), got, tt.want)
			}
			for i := range got {
				if !proto.Equal(got[i], tt.want[i]) {
					t.Errorf("change %d = %v, want %v", i, got[i], tt.want[i])
				}
			}
			if s := ConfChangesToString(got); s != strings.Join(strings.Fields(tt.in), " ") {
				t.Errorf("ConfChangesToString = %q, want the normalised input", s)
			}
		})
	}
}

func TestConfChangesToString(t *testing.T) {
	tests := []struct {
		ccs  []*ConfChangeSingle
		want string
	}{
		{nil, ""},
		{[]*ConfChangeSingle{{Type: ConfChangeAddNode, NodeId: 1}}, "v1"},
		{[]*ConfChangeSingle{
			{Type: ConfChangeUpdateNode, NodeId: 9},
			{Type: ConfChangeRemoveNode, NodeId: 8},
			{Type: ConfChangeAddLearnerNode, NodeId: 7},
		}, "u9 r8 l7"},
		// Forms the syntax cannot express still print, and do not parse.
		{[]*ConfChangeSingle{nil, {Type: 17, NodeId: 3}, {NodeId: 0}}, "<nil> ?17:3 v0"},
	}
	for _, tt := range tests {
		if got := ConfChangesToString(tt.ccs); got != tt.want {
			t.Errorf("ConfChangesToString(%v) = %q, want %q", tt.ccs, got, tt.want)
		}
	}
	if _, err := ConfChangesFromString("<nil> ?17:3 v0"); err == nil {
		t.Error("the unrepresentable forms parsed")
	}
}

// FuzzConfChangesFromString checks that the parser never panics and that
// whatever it accepts prints back as the input with whitespace normalised,
// and parses again to the same changes.
func FuzzConfChangesFromString(f *testing.F) {
	for _, s := range []string{"", "v1", "v2 l3 r4 u5", "x1", "v0", "v01", "v18446744073709551616", "l\t9\n", "vé"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ccs, err := ConfChangesFromString(s)
		if err != nil {
			return
		}
		out := ConfChangesToString(ccs)
		if want := strings.Join(strings.Fields(s), " "); out != want {
			t.Fatalf("ConfChangesFromString(%q) printed as %q, want %q", s, out, want)
		}
		again, err := ConfChangesFromString(out)
		if err != nil {
			t.Fatalf("re-parsing %q: %v", out, err)
		}
		if len(again) != len(ccs) {
			t.Fatalf("re-parse of %q gave %d changes, want %d", out, len(again), len(ccs))
		}
		for i := range ccs {
			if !proto.Equal(ccs[i], again[i]) {
				t.Fatalf("re-parse of %q: change %d = %v, want %v", out, i, again[i], ccs[i])
			}
		}
	})
}
