//go:build !raftmutation

package main

// Without the raftmutation build tag there are no mutations to switch on.
func applyMutations() error { return nil }

func fixReplay(cmd string) string { return cmd }
