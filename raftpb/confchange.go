package raftpb

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"
)

// ConfChangeI is a membership change in either of its two encodings, so
// that proposal and apply paths can take both without caring which one the
// application used.
type ConfChangeI interface {
	// AsV2 returns the change as a ConfChangeV2. The result may share memory
	// with the receiver and must be treated as read-only.
	AsV2() *ConfChangeV2
	// AsV1 returns the change as a ConfChange and true if it was written in
	// the original encoding, and nil and false otherwise.
	AsV1() (*ConfChange, bool)
}

var (
	_ ConfChangeI = (*ConfChange)(nil)
	_ ConfChangeI = (*ConfChangeV2)(nil)
)

// AsV2 returns c as a ConfChangeV2 holding its single change with the
// automatic transition and the same context. ConfChange.Id has no V2
// counterpart and is dropped; raft never interprets it. A nil c reads as the
// zero ConfChange, like every generated getter.
func (c *ConfChange) AsV2() *ConfChangeV2 {
	return &ConfChangeV2{
		Changes: []*ConfChangeSingle{{Type: c.GetType(), NodeId: c.GetNodeId()}},
		Context: c.GetContext(),
	}
}

// AsV1 returns c itself and true.
func (c *ConfChange) AsV1() (*ConfChange, bool) { return c, true }

// AsV2 returns c itself.
func (c *ConfChangeV2) AsV2() *ConfChangeV2 { return c }

// AsV1 always returns nil and false. A ConfChangeV2 with exactly one change
// and the automatic transition could be expressed as a ConfChange, but
// nothing needs that direction, and a conversion that only sometimes
// succeeds would make the entry type of a proposal depend on its contents.
func (c *ConfChangeV2) AsV1() (*ConfChange, bool) { return nil, false }

// ErrNilConfChange is returned by MarshalConfChange when given a nil change.
var ErrNilConfChange = errors.New("raftpb: nil conf change")

// MarshalConfChange encodes c for a log entry and returns the entry type
// that tells a reader how to decode it: EntryConfChange for a ConfChange,
// EntryConfChangeV2 for anything else. It returns ErrNilConfChange if c is
// nil or holds a nil pointer.
func MarshalConfChange(c ConfChangeI) (EntryType, []byte, error) {
	if c == nil {
		return EntryNormal, nil, ErrNilConfChange
	}
	var (
		typ EntryType
		msg proto.Message
	)
	if v1, ok := c.AsV1(); ok {
		if v1 == nil {
			return EntryNormal, nil, ErrNilConfChange
		}
		typ, msg = EntryConfChange, v1
	} else {
		v2 := c.AsV2()
		if v2 == nil {
			return EntryNormal, nil, ErrNilConfChange
		}
		typ, msg = EntryConfChangeV2, v2
	}
	data, err := proto.Marshal(msg)
	if err != nil {
		return EntryNormal, nil, fmt.Errorf("raftpb: encoding %s: %w", typ, err)
	}
	return typ, data, nil
}

// ErrNotConfChange is returned by UnmarshalConfChange for an entry type that
// does not carry a conf change.
var ErrNotConfChange = errors.New("raftpb: entry type does not carry a conf change")

// UnmarshalConfChange decodes the data of a conf change entry of type typ,
// the inverse of MarshalConfChange. It returns ErrNotConfChange (wrapped)
// for other entry types, and the decoding error for malformed data.
func UnmarshalConfChange(typ EntryType, data []byte) (ConfChangeI, error) {
	switch typ {
	case EntryConfChange:
		cc := &ConfChange{}
		if err := proto.Unmarshal(data, cc); err != nil {
			return nil, fmt.Errorf("raftpb: decoding ConfChange: %w", err)
		}
		return cc, nil
	case EntryConfChangeV2:
		cc := &ConfChangeV2{}
		if err := proto.Unmarshal(data, cc); err != nil {
			return nil, fmt.Errorf("raftpb: decoding ConfChangeV2: %w", err)
		}
		return cc, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrNotConfChange, typ)
}

// EnterJoint reports whether applying c must go through a joint
// configuration (Raft thesis §4.3) and, if so, whether the leader should
// leave it on its own once it is committed (autoLeave).
//
// Joint consensus is needed when c has more than one change, because a
// simple change is only safe when it alters at most one voter (thesis §4.1)
// and counting voters would need the current configuration, which this
// method does not have; or when the application asked for it with a
// transition other than Auto. With JointExplicit the application leaves the
// joint configuration itself by proposing an empty ConfChangeV2.
//
// A transition value this build does not know is treated like
// JointExplicit: the node stays joint, which is safe, until told otherwise.
// Callers that want such values rejected should validate before proposing.
func (c *ConfChangeV2) EnterJoint() (autoLeave bool, ok bool) {
	tr := c.GetTransition()
	if tr == ConfChangeTransitionAuto && len(c.GetChanges()) <= 1 {
		return false, false
	}
	switch tr {
	case ConfChangeTransitionAuto, ConfChangeTransitionJointImplicit:
		return true, true
	default:
		return false, true
	}
}

// LeaveJoint reports whether c asks to leave a joint configuration: it has
// no changes and the Auto transition. The context is not looked at, because
// it is opaque application data that raft must never interpret; an
// application may attach one to its leave proposal to recognise it later.
func (c *ConfChangeV2) LeaveJoint() bool {
	return len(c.GetChanges()) == 0 && c.GetTransition() == ConfChangeTransitionAuto
}

// The compact text syntax for lists of single changes, used by tests and
// tools: space-separated tokens of a one-letter operation followed by a
// decimal node id without sign or leading zeros, e.g. "v2 l3 r4 u5".
const (
	ccAddVoter   = 'v' // ConfChangeAddNode
	ccAddLearner = 'l' // ConfChangeAddLearnerNode
	ccRemove     = 'r' // ConfChangeRemoveNode
	ccUpdate     = 'u' // ConfChangeUpdateNode
)

// ConfChangesFromString parses the compact text syntax into single changes:
// space-separated tokens of an operation letter and a node id, where v adds
// a voter, l adds a learner, r removes a node and u updates one, e.g.
// "v2 l3 r4 u5". Node ids are decimal, non-zero (zero means "no node"),
// without sign or leading zeros, so every list has one spelling and
// ConfChangesToString inverts this function. Any whitespace separates
// tokens; an empty or blank string yields no changes.
func ConfChangesFromString(s string) ([]*ConfChangeSingle, error) {
	var ccs []*ConfChangeSingle
	for _, tok := range strings.Fields(s) {
		cc, err := parseConfChangeToken(tok)
		if err != nil {
			return nil, err
		}
		ccs = append(ccs, cc)
	}
	return ccs, nil
}

func parseConfChangeToken(tok string) (*ConfChangeSingle, error) {
	var typ ConfChangeType
	switch tok[0] {
	case ccAddVoter:
		typ = ConfChangeAddNode
	case ccAddLearner:
		typ = ConfChangeAddLearnerNode
	case ccRemove:
		typ = ConfChangeRemoveNode
	case ccUpdate:
		typ = ConfChangeUpdateNode
	default:
		return nil, fmt.Errorf("raftpb: conf change %q: unknown operation %q, want one of v (add voter), l (add learner), r (remove), u (update)",
			tok, firstRune(tok))
	}
	idStr := tok[1:]
	switch {
	case idStr == "":
		return nil, fmt.Errorf("raftpb: conf change %q: missing node id after %q", tok, tok[:1])
	case idStr[0] < '0' || idStr[0] > '9':
		return nil, fmt.Errorf("raftpb: conf change %q: node id %q is not a decimal number", tok, idStr)
	case idStr[0] == '0' && len(idStr) > 1:
		return nil, fmt.Errorf("raftpb: conf change %q: node id %q has a leading zero", tok, idStr)
	}
	id, err := strconv.ParseUint(idStr, 10, 64)
	if err != nil {
		var numErr *strconv.NumError
		if errors.As(err, &numErr) && errors.Is(numErr.Err, strconv.ErrRange) {
			return nil, fmt.Errorf("raftpb: conf change %q: node id %q overflows uint64", tok, idStr)
		}
		return nil, fmt.Errorf("raftpb: conf change %q: node id %q is not a decimal number", tok, idStr)
	}
	if id == 0 {
		return nil, fmt.Errorf("raftpb: conf change %q: node id 0 is reserved for \"no node\"", tok)
	}
	return &ConfChangeSingle{Type: typ, NodeId: id}, nil
}

// firstRune returns the first character of a non-empty s, whole even when
// it is multi-byte, for error messages.
func firstRune(s string) string {
	for _, r := range s {
		return string(r)
	}
	return ""
}

// ConfChangesToString formats changes in the compact text syntax of
// ConfChangesFromString, e.g. "v2 l3 r4 u5". Changes the syntax cannot
// express are still shown, in a form the parser rejects: a nil change as
// "<nil>", an unknown type as "?<type>:<id>", and node id 0 as written.
func ConfChangesToString(ccs []*ConfChangeSingle) string {
	var b strings.Builder
	writeConfChanges(&b, ccs)
	return b.String()
}

func writeConfChanges(b *strings.Builder, ccs []*ConfChangeSingle) {
	for i, cc := range ccs {
		if i > 0 {
			b.WriteByte(' ')
		}
		if cc == nil {
			b.WriteString("<nil>")
			continue
		}
		writeConfChangeToken(b, cc.Type, cc.NodeId)
	}
}

// writeConfChangeToken writes one change in the compact syntax.
func writeConfChangeToken(b *strings.Builder, typ ConfChangeType, id uint64) {
	switch typ {
	case ConfChangeAddNode:
		b.WriteByte(ccAddVoter)
	case ConfChangeAddLearnerNode:
		b.WriteByte(ccAddLearner)
	case ConfChangeRemoveNode:
		b.WriteByte(ccRemove)
	case ConfChangeUpdateNode:
		b.WriteByte(ccUpdate)
	default:
		var buf [20]byte
		b.WriteByte('?')
		b.Write(strconv.AppendInt(buf[:0], int64(typ), 10))
		b.WriteByte(':')
	}
	writeUint(b, id)
}
