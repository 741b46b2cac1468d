package sim

import (
	"encoding/binary"
	"errors"
)

// The state machine is a tiny key-value store. Few keys make writes
// collide, which is what a linearizability check needs to be sharp.
const (
	numKeys    = 3
	numClients = 4
	// markerClient is the client ID of the heal phase's liveness write,
	// and markerKey the key it writes: one no client reads.
	markerClient = numClients
	markerKey    = numKeys
)

// kvState is the replicated state machine: the value of every key, and
// per client the sequence number of its last applied write. A client
// retries nothing itself, but the network may duplicate a forwarded
// proposal, so the log can hold a write twice; the session table makes
// applying it idempotent, as a real service's client table would.
type kvState struct {
	vals [numKeys + 1]uint64
	last [numClients + 1]uint32
}

// cmd is a write: set key to value, on behalf of (client, seq).
type cmd struct {
	client uint32
	seq    uint32
	key    uint8
	value  uint64
}

const cmdLen = 1 + 4 + 4 + 1 + 8

func (c cmd) encode() []byte {
	b := make([]byte, cmdLen)
	b[0] = 'P'
	binary.LittleEndian.PutUint32(b[1:], c.client)
	binary.LittleEndian.PutUint32(b[5:], c.seq)
	b[9] = c.key
	binary.LittleEndian.PutUint64(b[10:], c.value)
	return b
}

var errBadCmd = errors.New("sim: malformed command")

func decodeCmd(b []byte) (cmd, error) {
	if len(b) != cmdLen || b[0] != 'P' {
		return cmd{}, errBadCmd
	}
	c := cmd{
		client: binary.LittleEndian.Uint32(b[1:]),
		seq:    binary.LittleEndian.Uint32(b[5:]),
		key:    b[9],
		value:  binary.LittleEndian.Uint64(b[10:]),
	}
	if c.client > numClients || c.key > markerKey {
		return cmd{}, errBadCmd
	}
	return c, nil
}

// apply carries out c and reports whether it took effect (false for a
// duplicate).
func (s *kvState) apply(c cmd) bool {
	if c.seq <= s.last[c.client] {
		return false
	}
	s.last[c.client] = c.seq
	s.vals[c.key] = c.value
	return true
}

const kvSnapLen = (numKeys+1)*8 + (numClients+1)*4

func (s *kvState) encode() []byte {
	b := make([]byte, 0, kvSnapLen)
	for _, v := range s.vals {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	for _, l := range s.last {
		b = binary.LittleEndian.AppendUint32(b, l)
	}
	return b
}

func decodeKV(b []byte) (kvState, error) {
	var s kvState
	if len(b) == 0 {
		return s, nil // the initial, empty snapshot
	}
	if len(b) != kvSnapLen {
		return s, errors.New("sim: malformed state machine snapshot")
	}
	for i := range s.vals {
		s.vals[i] = binary.LittleEndian.Uint64(b[i*8:])
	}
	off := (numKeys + 1) * 8
	for i := range s.last {
		s.last[i] = binary.LittleEndian.Uint32(b[off+i*4:])
	}
	return s, nil
}
