package main

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/seed901663da/raft/raftpb"
)

// The peer service is described by hand instead of generated from a
// .proto file: it has two methods, and its messages are raftpb's plus a
// batch envelope, so a ServiceDesc and a small codec are shorter than the
// generated code and need no generation step.
//
// Equivalent proto:
//
//	service Raft {
//	  rpc Messages(stream Batch) returns (Empty);  // everything but MsgSnap
//	  rpc Snapshot(raftpb.Message) returns (Empty); // one MsgSnap
//	}
//	message Batch { repeated raftpb.Message msgs = 1; }
//	message Empty {}
const (
	serviceName      = "raftexample.Raft"
	methodMessages   = "/" + serviceName + "/Messages"
	methodSnapshot   = "/" + serviceName + "/Snapshot"
	maxPeerMsgBytes  = 512 << 20 // a snapshot travels as one message
	maxBatchBytes    = 4 << 20
	maxBatchMessages = 512
)

// msgBatch is the unit sent on a peer stream: every message queued for the
// peer when the sender got to it, up to maxBatchBytes.
type msgBatch struct {
	msgs []*raftpb.Message
}

// empty is the reply of both methods.
type empty struct{}

// codec encodes the peer service's three message types. Its wire format
// is protobuf, so the service could be given a .proto later without
// changing a byte on the wire.
type codec struct{}

func (codec) Name() string { return "raftexample" }

func (codec) Marshal(v any) ([]byte, error) {
	switch v := v.(type) {
	case *msgBatch:
		// proto.Size caches each message's size (and its entries'), so
		// the encoding below reuses them instead of sizing every message
		// twice more, and the buffer is allocated once.
		n := 0
		for _, m := range v.msgs {
			size := proto.Size(m)
			n += protowire.SizeTag(1) + protowire.SizeBytes(size)
		}
		b := make([]byte, 0, n)
		o := proto.MarshalOptions{UseCachedSize: true}
		for _, m := range v.msgs {
			var err error
			b = protowire.AppendTag(b, 1, protowire.BytesType)
			b = protowire.AppendVarint(b, uint64(o.Size(m)))
			b, err = o.MarshalAppend(b, m)
			if err != nil {
				return nil, err
			}
		}
		return b, nil
	case *raftpb.Message:
		return proto.Marshal(v)
	case *empty:
		return nil, nil
	}
	return nil, fmt.Errorf("raftexample codec: cannot marshal %T", v)
}

func (codec) Unmarshal(data []byte, v any) error {
	switch v := v.(type) {
	case *msgBatch:
		v.msgs = v.msgs[:0]
		return forEachField(data, func(num protowire.Number, f []byte) error {
			if num != 1 {
				return nil
			}
			m := &raftpb.Message{}
			if err := proto.Unmarshal(f, m); err != nil {
				return err
			}
			v.msgs = append(v.msgs, m)
			return nil
		})
	case *raftpb.Message:
		return proto.Unmarshal(data, v)
	case *empty:
		return nil
	}
	return fmt.Errorf("raftexample codec: cannot unmarshal into %T", v)
}
