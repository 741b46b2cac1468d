// Command raftexample is a replicated key-value server built on the raft
// library.
package main

func main() {}
