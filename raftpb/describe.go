package raftpb

import (
	"math"
	"strconv"
	"strings"
)

// Readable one-line forms of the protocol types, for logs and for the
// expected output of interaction tests. Because test files pin these
// strings, the format is part of the package's contract: every function
// prints fields in a fixed order, ids and indexes as plain decimals, and
// leaves out optional message fields that hold their zero value so that a
// line shows only what matters.
//
// The generated String methods are no substitute: protobuf's text format is
// deliberately unstable between runs and prints entry data as raw bytes.

// EntryFormatter renders the application payload of an entry. A nil
// formatter prints the bytes as a Go-quoted string ("%q").
type EntryFormatter func([]byte) string

// DescribeEntry returns a one-line description of e: term/index, the entry
// type and its payload, e.g.
//
//	1/5 EntryNormal "foo"
//	2/7 EntryConfChangeV2 v3 l4
//
// Conf change entries are decoded and shown in the syntax of
// ConfChangesToString, followed where set by the V1 ID, a non-Auto
// transition and the context. A nil entry prints as "<nil>".
func DescribeEntry(e *Entry, f EntryFormatter) string {
	var b strings.Builder
	writeEntry(&b, e, f)
	return b.String()
}

// DescribeEntries describes each entry on a line of its own, each line
// ending in a newline; no entries give the empty string.
func DescribeEntries(ents []*Entry, f EntryFormatter) string {
	var b strings.Builder
	for _, e := range ents {
		writeEntry(&b, e, f)
		b.WriteByte('\n')
	}
	return b.String()
}

// DescribeMessage returns a one-line description of m, e.g.
//
//	1->2 MsgApp Term:3 Log:2/10 Commit:9 Entries:[3/11 EntryNormal "x"]
//
// From, To, type, Term and Log (log term/index) are always shown; the IDs
// of the local storage threads print as AppendThread and ApplyThread. Then,
// only when set: Commit, Vote, Reject (with RejectHint, which is also shown
// on its own when non-zero), Epoch, Entries, Snapshot (when not empty, see
// IsEmptySnap), Context and Responses, the last described recursively.
// Entries and responses are separated by ", ". A nil message prints as
// "<nil>".
func DescribeMessage(m *Message, f EntryFormatter) string {
	var b strings.Builder
	writeMessage(&b, m, f)
	return b.String()
}

// DescribeHardState returns hs as "Term:1 Vote:2 Commit:3"; nil reads as
// all zeros.
func DescribeHardState(hs *HardState) string {
	var b strings.Builder
	writeField(&b, "Term:", hs.GetTerm())
	writeField(&b, " Vote:", hs.GetVote())
	writeField(&b, " Commit:", hs.GetCommit())
	return b.String()
}

// DescribeConfState returns cs with every list shown, even when empty, e.g.
//
//	Voters:[1 2 3] VotersOutgoing:[] Learners:[] LearnersNext:[] AutoLeave:false
//
// Ids appear in the order stored; nil reads as the empty configuration.
func DescribeConfState(cs *ConfState) string {
	var b strings.Builder
	writeConfState(&b, cs)
	return b.String()
}

// DescribeSnapshot returns the metadata of s (not its data), e.g.
//
//	Index:10 Term:2 ConfState:{Voters:[1 2 3] VotersOutgoing:[] Learners:[] LearnersNext:[] AutoLeave:false}
//
// nil, and missing metadata, read as zeros.
func DescribeSnapshot(s *Snapshot) string {
	var b strings.Builder
	writeSnapshot(&b, s)
	return b.String()
}

func writeEntry(b *strings.Builder, e *Entry, f EntryFormatter) {
	if e == nil {
		b.WriteString("<nil>")
		return
	}
	writeUint(b, e.Term)
	b.WriteByte('/')
	writeUint(b, e.Index)
	b.WriteByte(' ')
	b.WriteString(e.Type.String())
	switch e.Type {
	case EntryConfChange, EntryConfChangeV2:
		writeConfChangeData(b, e.Type, e.Data)
	default:
		b.WriteByte(' ')
		writeData(b, e.Data, f)
	}
}

// writeConfChangeData decodes and describes the payload of a conf change
// entry, starting with a space unless there is nothing to show (an empty
// ConfChangeV2, which leaves a joint configuration).
func writeConfChangeData(b *strings.Builder, typ EntryType, data []byte) {
	cc, err := UnmarshalConfChange(typ, data)
	if err != nil {
		// The decoding error is left out: protobuf varies its wording
		// between runs on purpose, and the output must be stable.
		b.WriteString(" <malformed> ")
		b.WriteString(strconv.Quote(string(data)))
		return
	}
	var ctx []byte
	if v1, ok := cc.AsV1(); ok {
		b.WriteByte(' ')
		writeConfChangeToken(b, v1.Type, v1.NodeId)
		if v1.Id != 0 {
			writeField(b, " ID:", v1.Id)
		}
		ctx = v1.Context
	} else {
		v2 := cc.AsV2()
		if len(v2.Changes) > 0 {
			b.WriteByte(' ')
			writeConfChanges(b, v2.Changes)
		}
		if v2.Transition != ConfChangeTransitionAuto {
			b.WriteString(" Transition:")
			b.WriteString(strings.TrimPrefix(v2.Transition.String(), "ConfChangeTransition"))
		}
		ctx = v2.Context
	}
	if len(ctx) > 0 {
		b.WriteString(" Context:")
		b.WriteString(strconv.Quote(string(ctx)))
	}
}

func writeData(b *strings.Builder, data []byte, f EntryFormatter) {
	if f == nil {
		b.WriteString(strconv.Quote(string(data)))
		return
	}
	b.WriteString(f(data))
}

// The node IDs that address a node's own storage threads with
// AsyncStorageWrites (raft.LocalAppendThread and raft.LocalApplyThread;
// this package cannot import raft). They print by name, as AppendThread
// and ApplyThread.
const (
	localAppendThread uint64 = math.MaxUint64
	localApplyThread  uint64 = math.MaxUint64 - 1
)

func writeNodeID(b *strings.Builder, id uint64) {
	switch id {
	case localAppendThread:
		b.WriteString("AppendThread")
	case localApplyThread:
		b.WriteString("ApplyThread")
	default:
		writeUint(b, id)
	}
}

func writeMessage(b *strings.Builder, m *Message, f EntryFormatter) {
	if m == nil {
		b.WriteString("<nil>")
		return
	}
	writeNodeID(b, m.From)
	b.WriteString("->")
	writeNodeID(b, m.To)
	b.WriteByte(' ')
	b.WriteString(m.Type.String())
	writeField(b, " Term:", m.Term)
	writeField(b, " Log:", m.LogTerm)
	b.WriteByte('/')
	writeUint(b, m.Index)
	if m.Commit != 0 {
		writeField(b, " Commit:", m.Commit)
	}
	if m.Vote != 0 {
		writeField(b, " Vote:", m.Vote)
	}
	if m.Reject {
		b.WriteString(" Reject:true")
	}
	if m.Reject || m.RejectHint != 0 {
		writeField(b, " RejectHint:", m.RejectHint)
	}
	if m.Epoch != 0 {
		writeField(b, " Epoch:", m.Epoch)
	}
	if len(m.Entries) > 0 {
		b.WriteString(" Entries:[")
		for i, e := range m.Entries {
			if i > 0 {
				b.WriteString(", ")
			}
			writeEntry(b, e, f)
		}
		b.WriteByte(']')
	}
	if !IsEmptySnap(m.Snapshot) {
		b.WriteString(" Snapshot:{")
		writeSnapshot(b, m.Snapshot)
		b.WriteByte('}')
	}
	if len(m.Context) > 0 {
		b.WriteString(" Context:")
		b.WriteString(strconv.Quote(string(m.Context)))
	}
	if len(m.Responses) > 0 {
		b.WriteString(" Responses:[")
		for i, r := range m.Responses {
			if i > 0 {
				b.WriteString(", ")
			}
			writeMessage(b, r, f)
		}
		b.WriteByte(']')
	}
}

func writeSnapshot(b *strings.Builder, s *Snapshot) {
	md := s.GetMetadata()
	writeField(b, "Index:", md.GetIndex())
	writeField(b, " Term:", md.GetTerm())
	b.WriteString(" ConfState:{")
	writeConfState(b, md.GetConfState())
	b.WriteByte('}')
}

func writeConfState(b *strings.Builder, cs *ConfState) {
	writeIDs(b, "Voters:", cs.GetVoters())
	writeIDs(b, " VotersOutgoing:", cs.GetVotersOutgoing())
	writeIDs(b, " Learners:", cs.GetLearners())
	writeIDs(b, " LearnersNext:", cs.GetLearnersNext())
	b.WriteString(" AutoLeave:")
	b.WriteString(strconv.FormatBool(cs.GetAutoLeave()))
}

// writeIDs writes name followed by ids as "[1 2 3]".
func writeIDs(b *strings.Builder, name string, ids []uint64) {
	b.WriteString(name)
	b.WriteByte('[')
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(' ')
		}
		writeUint(b, id)
	}
	b.WriteByte(']')
}

func writeField(b *strings.Builder, name string, v uint64) {
	b.WriteString(name)
	writeUint(b, v)
}

func writeUint(b *strings.Builder, v uint64) {
	var buf [20]byte
	b.Write(strconv.AppendUint(buf[:0], v, 10))
}
