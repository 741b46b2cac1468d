package raft_test

import (
	"context"
	"fmt"
	"log"

	"github.com/seed901663da/raft"
	"github.com/seed901663da/raft/raftpb"
)

// handleReady runs the application's side of the loop for one RawNode
// until it has nothing left to do: persist, send, apply, advance. A real
// application sends rd.Messages to its peers; a single node has none.
func handleReady(rn *raft.RawNode, storage *raft.MemoryStorage) {
	for rn.HasReady() {
		rd := rn.Ready()
		if rd.SoftState != nil {
			fmt.Printf("role %s, leader %d\n", rd.SoftState.RaftState, rd.SoftState.Lead)
		}
		// 1. Persist: snapshot, entries and hard state, before anything
		// is sent.
		if rd.Snapshot != nil {
			if err := storage.ApplySnapshot(rd.Snapshot); err != nil {
				log.Fatal(err)
			}
		}
		if err := storage.Append(rd.Entries); err != nil {
			log.Fatal(err)
		}
		if rd.HardState != nil {
			if err := storage.SetHardState(rd.HardState); err != nil {
				log.Fatal(err)
			}
		}
		// 2. Send rd.Messages (none here).
		// 3. Apply the committed entries, in order.
		for _, e := range rd.CommittedEntries {
			switch e.Type {
			case raftpb.EntryConfChange, raftpb.EntryConfChangeV2:
				cc, err := raftpb.UnmarshalConfChange(e.Type, e.Data)
				if err != nil {
					log.Fatal(err)
				}
				cs, err := rn.ApplyConfChange(cc)
				if err != nil {
					log.Fatal(err)
				}
				fmt.Printf("applied %d: configuration now has voters %v\n", e.Index, cs.Voters)
			case raftpb.EntryNormal:
				if len(e.Data) == 0 {
					// A new leader's empty entry (Raft paper §5.4.2).
					fmt.Printf("applied %d: empty entry of term %d\n", e.Index, e.Term)
					continue
				}
				fmt.Printf("applied %d: %s\n", e.Index, e.Data)
			}
		}
		// 4. Tell the node all of it is done.
		rn.Advance(rd)
	}
}

// A single-node cluster driven through RawNode: bootstrap, campaign,
// propose, and watch each step come out of Ready.
func ExampleRawNode() {
	storage := raft.NewMemoryStorage()
	rn, err := raft.NewRawNode(&raft.Config{
		ID:              1,
		ElectionTick:    10,
		HeartbeatTick:   1,
		Storage:         storage,
		MaxSizePerMsg:   1 << 20,
		MaxInflightMsgs: 256,
	})
	if err != nil {
		log.Fatal(err)
	}
	// A brand-new cluster of one: the configuration is the log's first
	// entry.
	if err := rn.Bootstrap([]raft.Peer{{ID: 1}}); err != nil {
		log.Fatal(err)
	}
	handleReady(rn, storage)

	// Alone, the node wins its election as soon as its own vote is
	// durable: one Ready as candidate, the next as leader. An application
	// would call rn.Tick() on a timer instead and let the election
	// timeout do this.
	if err := rn.Campaign(); err != nil {
		log.Fatal(err)
	}
	handleReady(rn, storage)

	if err := rn.Propose([]byte("hello")); err != nil {
		log.Fatal(err)
	}
	handleReady(rn, storage)
	fmt.Println(rn.BasicStatus())

	// Output:
	// applied 1: configuration now has voters [1]
	// role StateCandidate, leader 0
	// role StateLeader, leader 1
	// applied 2: empty entry of term 2
	// applied 3: hello
	// id=1 term=2 vote=1 commit=3 applied=3 lead=1 state=StateLeader
}

// A single-node cluster behind the Node API: the application's loop runs
// in its own goroutine, taking work from Ready() and acknowledging it with
// Advance().
func ExampleNode() {
	storage := raft.NewMemoryStorage()
	n, err := raft.StartNode(&raft.Config{
		ID:              1,
		ElectionTick:    10,
		HeartbeatTick:   1,
		Storage:         storage,
		MaxSizePerMsg:   1 << 20,
		MaxInflightMsgs: 256,
	}, []raft.Peer{{ID: 1}})
	if err != nil {
		log.Fatal(err)
	}

	committed := make(chan string)
	configured := make(chan struct{})
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		notify := configured
		for {
			var rd raft.Ready
			select {
			case rd = <-n.Ready():
			case <-stop:
				return
			}
			// Persist, then send rd.Messages (none for a single node),
			// then apply.
			if err := storage.Append(rd.Entries); err != nil {
				log.Fatal(err)
			}
			if rd.HardState != nil {
				if err := storage.SetHardState(rd.HardState); err != nil {
					log.Fatal(err)
				}
			}
			for _, e := range rd.CommittedEntries {
				switch {
				case e.Type == raftpb.EntryConfChange:
					cc, err := raftpb.UnmarshalConfChange(e.Type, e.Data)
					if err != nil {
						log.Fatal(err)
					}
					if _, err := n.ApplyConfChange(cc); err != nil {
						log.Fatal(err)
					}
				case len(e.Data) > 0:
					committed <- string(e.Data)
				}
			}
			n.Advance()
			if notify != nil {
				// The bootstrap configuration is applied: a node only
				// campaigns once it knows who votes.
				close(notify)
				notify = nil
			}
		}
	}()

	<-configured
	ctx := context.Background()
	if err := n.Campaign(ctx); err != nil {
		log.Fatal(err)
	}
	// Propose waits until the node knows a leader.
	if err := n.Propose(ctx, []byte("hello")); err != nil {
		log.Fatal(err)
	}
	fmt.Println("committed:", <-committed)

	close(stop)
	n.Stop()
	<-stopped
	// Output:
	// committed: hello
}
