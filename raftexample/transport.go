package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/seed901663da/raft"
	"github.com/seed901663da/raft/raftpb"
)

// peerQueueLen is how many messages wait for one peer. Raft retries what
// is dropped, so a full queue drops (and reports the peer unreachable)
// instead of blocking the node loop.
const peerQueueLen = 4096

// Reconnect backoff: doubling from min to max, with jitter.
const (
	minBackoff = 20 * time.Millisecond
	maxBackoff = time.Second
)

// transport carries raft messages between nodes over gRPC: one
// client-streaming call per peer for ordinary messages, sent in batches,
// and a unary call per snapshot, whose outcome is reported to raft.
type transport struct {
	s          *server
	id         uint64
	ln         net.Listener
	grpc       *grpc.Server
	clientCred credentials.TransportCredentials

	mu      sync.Mutex
	peers   map[uint64]*peer
	stopped bool
	wg      sync.WaitGroup // snapshot senders
}

// peerWindowBytes is the HTTP/2 flow-control window of the peer streams
// and connections, on both sides. A fixed window turns off gRPC's
// bandwidth-delay estimation, whose receiving side otherwise pings the
// sender about once a round trip while data flows: on a busy stream that
// is a frame, a write and a wakeup at each end for every few batches of
// raft messages. The price is a ceiling of 4 MiB in flight per stream,
// where the estimator could grow the window to 16 MiB; raft's own limit
// (MaxInflightMsgs of MaxSizePerMsg) is higher still, so on a slow link a
// follower catching up is paced by this window rather than by raft.
const peerWindowBytes = 4 << 20

func newTransport(s *server, cfg serverConfig) (*transport, error) {
	t := &transport{s: s, id: cfg.id, peers: make(map[uint64]*peer)}
	serverCred := insecure.NewCredentials()
	t.clientCred = insecure.NewCredentials()
	if cfg.tls != nil {
		var err error
		serverCred, t.clientCred, err = cfg.tls.credentials()
		if err != nil {
			return nil, err
		}
	}
	t.ln = cfg.peerLn
	if t.ln == nil {
		var err error
		if t.ln, err = net.Listen("tcp", cfg.listenPeer); err != nil {
			return nil, fmt.Errorf("peer listener: %w", err)
		}
	}
	t.grpc = grpc.NewServer(
		grpc.Creds(serverCred),
		grpc.ForceServerCodec(codec{}),
		grpc.MaxRecvMsgSize(maxPeerMsgBytes),
		grpc.MaxSendMsgSize(maxPeerMsgBytes),
		grpc.InitialWindowSize(peerWindowBytes),
		grpc.InitialConnWindowSize(peerWindowBytes),
	)
	t.grpc.RegisterService(&grpc.ServiceDesc{
		ServiceName: serviceName,
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{{
			MethodName: "Snapshot",
			Handler:    t.handleSnapshot,
		}},
		Streams: []grpc.StreamDesc{{
			StreamName:    "Messages",
			Handler:       t.handleMessages,
			ClientStreams: true,
		}},
	}, t)
	go func() { _ = t.grpc.Serve(t.ln) }()
	return t, nil
}

// checkIncoming refuses a message that is not for this node or comes from
// a node that is not a member of the cluster, with a gRPC status error. A
// removed member gets FailedPrecondition, which tells it it was removed.
func (t *transport) checkIncoming(m *raftpb.Message) error {
	switch {
	case m.To != t.id:
		return status.Errorf(codes.InvalidArgument, "message for node %d reached node %d", m.To, t.id)
	case t.s.members.isRemoved(m.From):
		return status.Errorf(codes.FailedPrecondition, "node %d was removed from the cluster", m.From)
	case m.From == 0 || !t.s.members.has(m.From):
		return status.Errorf(codes.PermissionDenied, "node %d is not a member of this cluster", m.From)
	}
	return nil
}

func (t *transport) handleMessages(_ any, stream grpc.ServerStream) error {
	ctx := stream.Context()
	var b msgBatch
	for {
		if err := stream.RecvMsg(&b); err != nil {
			if errors.Is(err, io.EOF) {
				return stream.SendMsg(&empty{})
			}
			return err
		}
		for _, m := range b.msgs {
			if err := t.checkIncoming(m); err != nil {
				t.s.metrics.peerRejected.Inc()
				return err
			}
			// A leader batches the writes its followers forward with
			// its own (see batcher.absorb).
			if m.Type == raftpb.MsgProp && t.s.leader.Load() == t.id {
				if n := t.s.batcher.absorb(m.Entries); n > 0 {
					t.s.metrics.forwardedWrites.Add(float64(n))
					continue
				}
			}
			if err := t.s.node.Step(ctx, m); err != nil {
				if errors.Is(err, raft.ErrStopped) || ctx.Err() != nil {
					return status.Error(codes.Unavailable, "node stopped")
				}
				// Stale or unknown peers' responses: raft's call.
				t.s.metrics.peerRejected.Inc()
			}
		}
	}
}

func (t *transport) handleSnapshot(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
	m := &raftpb.Message{}
	if err := dec(m); err != nil {
		return nil, err
	}
	if m.Type != raftpb.MsgSnap || m.Snapshot.GetMetadata() == nil {
		t.s.metrics.peerRejected.Inc()
		return nil, status.Error(codes.InvalidArgument, "the Snapshot method takes one MsgSnap with metadata")
	}
	if err := t.checkIncoming(m); err != nil {
		t.s.metrics.peerRejected.Inc()
		return nil, err
	}
	if err := t.s.node.Step(ctx, m); err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	return &empty{}, nil
}

// addPeer starts talking to id at addr, or moves it there.
func (t *transport) addPeer(id uint64, addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	if p, ok := t.peers[id]; ok {
		if p.addr == addr {
			return
		}
		p.stop()
	}
	p, err := newPeer(t, id, addr)
	if err != nil {
		t.s.logf("peer %d at %s: %v", id, addr, err)
		delete(t.peers, id)
		return
	}
	t.peers[id] = p
}

func (t *transport) removePeer(id uint64) {
	t.mu.Lock()
	p, ok := t.peers[id]
	delete(t.peers, id)
	t.mu.Unlock()
	if ok {
		p.stop()
	}
}

// send queues messages for their peers. It never blocks: a message to an
// unknown peer or a peer with a full queue is dropped, and raft is told
// the peer is unreachable, so that it stops pipelining to it.
func (t *transport) send(msgs []*raftpb.Message) {
	if len(msgs) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, m := range msgs {
		p, ok := t.peers[m.To]
		if !ok || t.stopped {
			t.s.metrics.peerSendDropped.Inc()
			if m.Type == raftpb.MsgSnap {
				t.s.node.ReportSnapshot(m.To, raft.SnapshotFailure)
			}
			t.s.node.ReportUnreachable(m.To)
			continue
		}
		if m.Type == raftpb.MsgSnap {
			t.wg.Add(1)
			go func() {
				defer t.wg.Done()
				p.sendSnapshot(m)
			}()
			continue
		}
		select {
		case p.queue <- m:
		default:
			t.s.metrics.peerSendDropped.Inc()
			t.s.node.ReportUnreachable(m.To)
		}
	}
}

// stop closes the listener, all streams and all connections.
func (t *transport) stop() {
	t.mu.Lock()
	if t.stopped {
		t.mu.Unlock()
		return
	}
	t.stopped = true
	peers := t.peers
	t.peers = map[uint64]*peer{}
	t.mu.Unlock()
	for _, p := range peers {
		p.stop()
	}
	t.grpc.Stop()
	t.wg.Wait()
}

// peer is the sending side towards one node.
type peer struct {
	t      *transport
	id     uint64
	addr   string
	conn   *grpc.ClientConn
	queue  chan *raftpb.Message
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

func newPeer(t *transport, id uint64, addr string) (*peer, error) {
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(t.clientCred),
		grpc.WithDefaultCallOptions(
			grpc.ForceCodec(codec{}),
			grpc.MaxCallRecvMsgSize(maxPeerMsgBytes),
			grpc.MaxCallSendMsgSize(maxPeerMsgBytes),
		),
		grpc.WithInitialWindowSize(peerWindowBytes),
		grpc.WithInitialConnWindowSize(peerWindowBytes),
	)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &peer{
		t: t, id: id, addr: addr, conn: conn,
		queue: make(chan *raftpb.Message, peerQueueLen),
		ctx:   ctx, cancel: cancel,
		done: make(chan struct{}),
	}
	go p.run()
	return p, nil
}

func (p *peer) stop() {
	p.cancel()
	<-p.done
	_ = p.conn.Close()
}

// run keeps a stream open to the peer and sends what is queued, in
// batches. When the stream breaks it reports the peer unreachable and
// reconnects after a backoff that grows while attempts keep failing.
func (p *peer) run() {
	defer close(p.done)
	backoff := minBackoff
	for {
		sent, err := p.stream()
		if p.ctx.Err() != nil {
			return
		}
		if sent {
			backoff = minBackoff
		}
		p.t.s.node.ReportUnreachable(p.id)
		switch status.Code(err) {
		case codes.FailedPrecondition:
			// Only a member that applied our removal says this.
			p.t.s.markRemoved()
		case codes.PermissionDenied, codes.InvalidArgument:
			p.t.s.logf("peer %d refused our messages: %v", p.id, err)
		}
		// Jitter keeps a cluster's nodes from reconnecting in lockstep.
		wait := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-time.After(wait):
		case <-p.ctx.Done():
			return
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// stream opens one stream and sends batches on it until it breaks. It
// reports whether any batch went out.
func (p *peer) stream() (sent bool, err error) {
	// The first message is awaited before dialing, so an idle peer
	// costs no connection attempts.
	var first *raftpb.Message
	select {
	case first = <-p.queue:
	case <-p.ctx.Done():
		return false, p.ctx.Err()
	}
	ctx, cancel := context.WithCancel(p.ctx)
	defer cancel()
	st, err := p.conn.NewStream(ctx, &grpc.StreamDesc{StreamName: "Messages", ClientStreams: true}, methodMessages)
	if err != nil {
		return false, err
	}
	b := &msgBatch{}
	for {
		b.msgs = append(b.msgs[:0], first)
		size := proto.Size(first)
	drain:
		for len(b.msgs) < maxBatchMessages && size < maxBatchBytes {
			select {
			case m := <-p.queue:
				b.msgs = append(b.msgs, m)
				size += proto.Size(m)
			default:
				break drain
			}
		}
		if err := st.SendMsg(b); err != nil {
			if errors.Is(err, io.EOF) {
				// The server ended the stream; its status says why.
				err = st.RecvMsg(&empty{})
			}
			return sent, err
		}
		sent = true
		select {
		case first = <-p.queue:
		case <-p.ctx.Done():
			return sent, p.ctx.Err()
		}
	}
}

// sendSnapshot sends one MsgSnap and reports the outcome to raft.
func (p *peer) sendSnapshot(m *raftpb.Message) {
	ctx, cancel := context.WithTimeout(p.ctx, time.Minute)
	defer cancel()
	err := p.conn.Invoke(ctx, methodSnapshot, m, &empty{})
	if err != nil {
		p.t.s.logf("sending snapshot at %d to %d: %v", m.Snapshot.GetMetadata().GetIndex(), p.id, err)
		p.t.s.metrics.snapshots.WithLabelValues("send_failed").Inc()
		p.t.s.node.ReportUnreachable(p.id)
		p.t.s.node.ReportSnapshot(p.id, raft.SnapshotFailure)
		return
	}
	p.t.s.metrics.snapshots.WithLabelValues("sent").Inc()
	p.t.s.node.ReportSnapshot(p.id, raft.SnapshotFinish)
}
