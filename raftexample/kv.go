package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"

	"google.golang.org/protobuf/encoding/protowire"
)

// opType is the kind of a key-value command in a log entry.
type opType byte

const (
	opPut    opType = 1
	opDelete opType = 2
)

// command is one client write, the payload of a normal log entry.
//
// Wire format: op (1 byte), request ID (uvarint), key length (uvarint),
// key, value (the rest). The request ID lets the node that proposed the
// command find the waiting client when the entry is applied; it is unique
// per process run (see newRequestIDs) so that entries replayed after a
// restart never wake a new request.
type command struct {
	op    opType
	reqID uint64
	key   string
	value []byte
}

func (c *command) marshal() []byte {
	b := make([]byte, 0, 1+2*binary.MaxVarintLen64+len(c.key)+len(c.value))
	b = append(b, byte(c.op))
	b = binary.AppendUvarint(b, c.reqID)
	b = binary.AppendUvarint(b, uint64(len(c.key)))
	b = append(b, c.key...)
	return append(b, c.value...)
}

func unmarshalCommand(b []byte) (command, error) {
	var c command
	if len(b) < 1 {
		return c, errors.New("empty command")
	}
	c.op = opType(b[0])
	if c.op != opPut && c.op != opDelete {
		return c, fmt.Errorf("unknown command op %d", c.op)
	}
	b = b[1:]
	id, n := binary.Uvarint(b)
	if n <= 0 {
		return c, errors.New("malformed command request ID")
	}
	c.reqID, b = id, b[n:]
	klen, n := binary.Uvarint(b)
	if n <= 0 || klen > uint64(len(b)-n) {
		return c, errors.New("malformed command key")
	}
	b = b[n:]
	c.key, c.value = string(b[:klen]), b[klen:]
	return c, nil
}

// kvStore is the replicated state machine: a map from keys to values, plus
// the cluster's peer addresses, which travel in snapshots with it. It is
// changed only by the node loop, which applies committed entries in log
// order; HTTP handlers read it concurrently.
type kvStore struct {
	mu   sync.RWMutex
	data map[string][]byte
}

func newKVStore() *kvStore {
	return &kvStore{data: make(map[string][]byte)}
}

// apply carries out c and reports whether the key existed before.
func (s *kvStore) apply(c command) (existed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, existed = s.data[c.key]
	switch c.op {
	case opPut:
		s.data[c.key] = c.value
	case opDelete:
		delete(s.data, c.key)
	}
	return existed
}

// get returns the value of key. The returned slice must not be modified.
func (s *kvStore) get(key string) ([]byte, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.data[key]
	return v, ok
}

// keys returns the keys with the given prefix, sorted.
func (s *kvStore) keys(prefix string) []string {
	s.mu.RLock()
	out := []string{}
	for k := range s.data {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	s.mu.RUnlock()
	sort.Strings(out)
	return out
}

// Snapshot data is a protobuf message written with protowire:
//
//	field 1 (repeated): a key-value pair, itself fields 1 key, 2 value
//	field 2 (repeated): a member, fields 1 ID (varint), 2 peer address
//	field 3 (repeated): the ID of a removed member (varint)
//
// Keys are written in sorted order so that equal states give equal bytes.
func (s *kvStore) snapshot(ms memberState) []byte {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return encodeSnapshot(s.data, ms)
}

// clone returns a copy of the key-value map, cheap next to encoding it:
// values are shared, which is safe because apply replaces a value and
// never modifies one in place. The node loop takes a clone at the applied
// index and encodes it in the background (see server.maybeSnapshot).
func (s *kvStore) clone() map[string][]byte {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return maps.Clone(s.data)
}

// encodeSnapshot encodes data and ms as snapshot data. data must not
// change during the call.
func encodeSnapshot(data map[string][]byte, ms memberState) []byte {
	members := ms.addrs
	keys := make([]string, 0, len(data))
	size := 0
	for k, v := range data {
		keys = append(keys, k)
		size += len(k) + len(v) + 16
	}
	slices.Sort(keys)
	b := make([]byte, 0, size)
	var rec []byte
	for _, k := range keys {
		rec = appendStringField(rec[:0], 1, k)
		rec = appendBytesField(rec, 2, data[k])
		b = appendBytesField(b, 1, rec)
	}
	ids := make([]uint64, 0, len(members))
	for id := range members {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		rec = appendVarintField(rec[:0], 1, id)
		rec = appendStringField(rec, 2, members[id])
		b = appendBytesField(b, 2, rec)
	}
	for _, id := range slices.Sorted(maps.Keys(ms.removed)) {
		b = appendVarintField(b, 3, id)
	}
	return b
}

// restore replaces the state by the one in snapshot data and returns the
// members recorded with it. On error the state is unchanged.
func (s *kvStore) restore(b []byte) (memberState, error) {
	data := make(map[string][]byte)
	members := make(map[uint64]string)
	removed := make(map[uint64]bool)
	err := forEachField(b, func(num protowire.Number, v []byte) error {
		switch num {
		case 1:
			var k string
			var val []byte
			err := forEachField(v, func(num protowire.Number, f []byte) error {
				switch num {
				case 1:
					k = string(f)
				case 2:
					val = f
				}
				return nil
			})
			if err != nil {
				return err
			}
			data[k] = val
		case 2:
			var id uint64
			var addr string
			err := forEachField(v, func(num protowire.Number, f []byte) error {
				switch num {
				case 1:
					var err error
					id, err = varintValue(f)
					return err
				case 2:
					addr = string(f)
				}
				return nil
			})
			if err != nil {
				return err
			}
			members[id] = addr
		case 3:
			id, err := varintValue(v)
			if err != nil {
				return err
			}
			removed[id] = true
		}
		return nil
	})
	if err != nil {
		return memberState{}, fmt.Errorf("decoding snapshot data: %w", err)
	}
	s.mu.Lock()
	s.data = data
	s.mu.Unlock()
	return memberState{addrs: members, removed: removed}, nil
}

// forEachField calls f with the number and raw value of every field of
// the protobuf message b: the payload of a bytes field, the varint bytes
// of a varint field. Other wire types are skipped.
func forEachField(b []byte, f func(num protowire.Number, v []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		var v []byte
		switch typ {
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			_, n = protowire.ConsumeVarint(b)
			if n >= 0 {
				v = b[:n]
			}
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if v != nil {
			if err := f(num, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// varintValue decodes v, the raw value forEachField passes for a varint
// field.
func varintValue(v []byte) (uint64, error) {
	x, n := protowire.ConsumeVarint(v)
	if n < 0 {
		return 0, protowire.ParseError(n)
	}
	return x, nil
}

// appendVarintField, appendBytesField and appendStringField append field
// num with value v to the protobuf message b.
func appendVarintField(b []byte, num protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), v)
}

func appendBytesField(b []byte, num protowire.Number, v []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), v)
}

func appendStringField(b []byte, num protowire.Number, v string) []byte {
	return protowire.AppendString(protowire.AppendTag(b, num, protowire.BytesType), v)
}
