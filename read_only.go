package raft

import "github.com/seed901663da/raft/raftpb"

// readIndexStatus is one ReadIndex request waiting for its heartbeat round.
type readIndexStatus struct {
	req   *raftpb.Message
	index uint64
	// acks records the voters that answered a heartbeat carrying this
	// request's context (or a later one). The values are always true; the
	// map type is what quorum.JointConfig.VoteResult counts.
	acks map[uint64]bool
}

// readOnly queues safe ReadIndex requests on the leader (thesis §6.4). A
// heartbeat ack for the newest request confirms leadership at a time after
// every older request arrived, so acks release the queue in order.
type readOnly struct {
	option ReadOnlyOption
	// pendingReadIndex maps request contexts to their status. Invariant:
	// its keys are exactly the entries of readIndexQueue.
	pendingReadIndex map[string]*readIndexStatus
	readIndexQueue   []string
}

func newReadOnly(option ReadOnlyOption) *readOnly {
	return &readOnly{option: option}
}

// addRequest queues a read with the leader's commit index at arrival.
// A request whose context is already queued is not added twice.
func (ro *readOnly) addRequest(index uint64, m *raftpb.Message) {
	s := string(m.Entries[0].GetData())
	if _, ok := ro.pendingReadIndex[s]; ok {
		return
	}
	if ro.pendingReadIndex == nil {
		ro.pendingReadIndex = make(map[string]*readIndexStatus)
	}
	ro.pendingReadIndex[s] = &readIndexStatus{index: index, req: m, acks: make(map[uint64]bool)}
	ro.readIndexQueue = append(ro.readIndexQueue, s)
}

// recvAck records that id answered a heartbeat carrying context ctx, and
// returns the acks for that request so far (nil if unknown).
func (ro *readOnly) recvAck(id uint64, ctx []byte) map[uint64]bool {
	rs, ok := ro.pendingReadIndex[string(ctx)]
	if !ok {
		return nil
	}
	rs.acks[id] = true
	return rs.acks
}

// advance dequeues the request with context ctx and every request queued
// before it, returning them in order.
func (ro *readOnly) advance(ctx []byte) []*readIndexStatus {
	key := string(ctx)
	n := -1
	for i, k := range ro.readIndexQueue {
		if k == key {
			n = i
			break
		}
	}
	if n < 0 {
		return nil
	}
	rss := make([]*readIndexStatus, 0, n+1)
	for _, k := range ro.readIndexQueue[:n+1] {
		rs, ok := ro.pendingReadIndex[k]
		if !ok {
			panic("raft: invariant violated: read index queue entry has no pending status")
		}
		rss = append(rss, rs)
		delete(ro.pendingReadIndex, k)
	}
	ro.readIndexQueue = ro.readIndexQueue[n+1:]
	return rss
}

// lastPendingRequestCtx is the context of the newest queued request, or
// nil when none is queued.
func (ro *readOnly) lastPendingRequestCtx() []byte {
	if len(ro.readIndexQueue) == 0 {
		return nil
	}
	return []byte(ro.readIndexQueue[len(ro.readIndexQueue)-1])
}
