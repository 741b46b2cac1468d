package raft

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/seed901663da/raft/raftpb"
)

// validConfig is a Config that passes Validate, for the tests to break one
// rule at a time.
func validConfig() *Config {
	return &Config{
		ID:              1,
		ElectionTick:    10,
		HeartbeatTick:   1,
		Storage:         NewMemoryStorage(),
		MaxSizePerMsg:   1024,
		MaxInflightMsgs: 16,
	}
}

// newRawNodeNoPanic calls NewRawNode and turns a panic into a test failure.
func newRawNodeNoPanic(t *testing.T, c *Config) (rn *RawNode, err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("NewRawNode panicked: %v", r)
		}
	}()
	return NewRawNode(c)
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Config)
		// field is what the error must name; "" means the config is valid.
		field string
	}{
		{"valid", func(*Config) {}, ""},
		{"ID zero", func(c *Config) { c.ID = None }, "ID"},
		{"HeartbeatTick zero", func(c *Config) { c.HeartbeatTick = 0 }, "HeartbeatTick"},
		{"HeartbeatTick negative", func(c *Config) { c.HeartbeatTick = -1 }, "HeartbeatTick"},
		{"ElectionTick equal to HeartbeatTick", func(c *Config) { c.ElectionTick = c.HeartbeatTick }, "ElectionTick"},
		{"ElectionTick below HeartbeatTick", func(c *Config) { c.ElectionTick, c.HeartbeatTick = 3, 5 }, "ElectionTick"},
		{"ElectionTick just above HeartbeatTick", func(c *Config) { c.ElectionTick = c.HeartbeatTick + 1 }, ""},
		{"no Storage", func(c *Config) { c.Storage = nil }, "Storage"},
		{"MaxInflightMsgs zero", func(c *Config) { c.MaxInflightMsgs = 0 }, "MaxInflightMsgs"},
		{"MaxInflightMsgs negative", func(c *Config) { c.MaxInflightMsgs = -3 }, "MaxInflightMsgs"},
		{"MaxInflightBytes below MaxSizePerMsg", func(c *Config) { c.MaxInflightBytes = c.MaxSizePerMsg - 1 }, "MaxInflightBytes"},
		{"MaxInflightBytes equal to MaxSizePerMsg", func(c *Config) { c.MaxInflightBytes = c.MaxSizePerMsg }, ""},
		{"MaxInflightBytes zero with unlimited messages", func(c *Config) { c.MaxInflightBytes, c.MaxSizePerMsg = 0, noLimit }, ""},
		{"unknown ReadOnlyOption", func(c *Config) { c.ReadOnlyOption = ReadOnlyOption(7) }, "ReadOnlyOption"},
		{"lease-based reads without CheckQuorum", func(c *Config) { c.ReadOnlyOption = ReadOnlyLeaseBased }, "CheckQuorum"},
		{"lease-based reads with CheckQuorum", func(c *Config) { c.ReadOnlyOption, c.CheckQuorum = ReadOnlyLeaseBased, true }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.change(c)
			before := *c
			err := c.Validate()
			if !reflect.DeepEqual(before, *c) {
				t.Fatalf("Validate modified the config:\nbefore %+v\nafter  %+v", before, *c)
			}
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v, want nil", err)
				}
			} else {
				if !errors.Is(err, ErrInvalidConfig) {
					t.Fatalf("Validate: %v, want an error wrapping ErrInvalidConfig", err)
				}
				if !strings.Contains(err.Error(), tt.field) {
					t.Fatalf("Validate: %q does not name %s", err, tt.field)
				}
			}
			// NewRawNode returns the same verdict, and never a half-built
			// node.
			rn, nerr := newRawNodeNoPanic(t, c)
			switch {
			case tt.field == "" && nerr != nil:
				t.Fatalf("NewRawNode: %v", nerr)
			case tt.field != "" && (rn != nil || !errors.Is(nerr, ErrInvalidConfig)):
				t.Fatalf("NewRawNode = %v, %v; want nil and ErrInvalidConfig", rn, nerr)
			}
		})
	}
}

func TestConfigValidateNil(t *testing.T) {
	var c *Config
	if err := c.Validate(); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("nil Config: %v, want ErrInvalidConfig", err)
	}
	if rn, err := newRawNodeNoPanic(t, nil); rn != nil || !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("NewRawNode(nil) = %v, %v; want nil and ErrInvalidConfig", rn, err)
	}
}

// TestNewRawNodeBadState checks the errors NewRawNode returns for a Config
// that is valid on its own but does not fit the storage.
func TestNewRawNodeBadState(t *testing.T) {
	tests := []struct {
		name    string
		storage func(t *testing.T) Storage
		applied uint64
		want    error // nil: any error will do
	}{
		{"Applied beyond the persisted commit", func(t *testing.T) Storage {
			return newVoterStorage(t, peers123, []uint64{1, 1, 1}, &raftpb.HardState{Term: 1, Commit: 2})
		}, 3, ErrInvalidConfig},
		{"persisted commit beyond the log", func(t *testing.T) Storage {
			return newVoterStorage(t, peers123, []uint64{1, 1}, &raftpb.HardState{Term: 1, Commit: 5})
		}, 0, nil},
		{"storage that fails", func(t *testing.T) Storage {
			return &brokenStorage{MemoryStorage: NewMemoryStorage(), err: errors.New("disk on fire")}
		}, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			c.Storage = tt.storage(t)
			c.Applied = tt.applied
			rn, err := newRawNodeNoPanic(t, c)
			if rn != nil || err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("NewRawNode = %v, %v; want nil and an error (%v)", rn, err, tt.want)
			}
		})
	}
	// A persisted commit index below the snapshot (AsyncStorageWrites
	// may apply and compact ahead of the hard state) means the snapshot's.
	s := newVoterStorage(t, peers123, []uint64{1, 1, 1, 1}, &raftpb.HardState{Term: 1, Commit: 2})
	if _, err := s.CreateSnapshot(3, &raftpb.ConfState{Voters: peers123}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Compact(3); err != nil {
		t.Fatal(err)
	}
	c0 := validConfig()
	c0.Storage = s
	rn0, err := newRawNodeNoPanic(t, c0)
	if err != nil {
		t.Fatalf("restart with commit below the snapshot: %v", err)
	}
	if st := rn0.BasicStatus(); st.Commit != 3 || st.Applied != 3 {
		t.Fatalf("restarted with %v, want commit=3 applied=3", st)
	}
	// Applied equal to the commit index is the usual restart.
	c := validConfig()
	c.Storage = newVoterStorage(t, peers123, []uint64{1, 1, 1}, &raftpb.HardState{Term: 1, Commit: 2})
	c.Applied = 2
	rn, err := newRawNodeNoPanic(t, c)
	if err != nil {
		t.Fatal(err)
	}
	if st := rn.BasicStatus(); st.Applied != 2 || st.Commit != 2 {
		t.Fatalf("restarted with %v, want applied=2 commit=2", st)
	}
}

func TestReadOnlyOptionString(t *testing.T) {
	for opt, want := range map[ReadOnlyOption]string{
		ReadOnlySafe:       "ReadOnlySafe",
		ReadOnlyLeaseBased: "ReadOnlyLeaseBased",
		ReadOnlyOption(9):  "ReadOnlyOption(9)",
	} {
		if got := fmt.Sprint(opt); got != want {
			t.Errorf("%d prints %q, want %q", int(opt), got, want)
		}
	}
}
