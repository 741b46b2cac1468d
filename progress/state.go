package progress

import "strconv"

// StateType is the replication mode the leader uses for one peer; see the
// package documentation for the state machine.
type StateType uint8

const (
	// StateProbe sends at most one append per heartbeat interval, or until it
	// is answered, to find where the peer's log matches the leader's. It is
	// the zero value: a leader starts out knowing nothing about its peers.
	StateProbe StateType = iota
	// StateReplicate streams appends without waiting for answers, up to the
	// Inflights limits.
	StateReplicate
	// StateSnapshot waits for a snapshot the peer needs to be applied, and
	// sends no appends meanwhile.
	StateSnapshot
)

// String returns the constant's name, e.g. "StateReplicate".
func (s StateType) String() string {
	switch s {
	case StateProbe:
		return "StateProbe"
	case StateReplicate:
		return "StateReplicate"
	case StateSnapshot:
		return "StateSnapshot"
	}
	return "StateType(" + strconv.Itoa(int(s)) + ")"
}
