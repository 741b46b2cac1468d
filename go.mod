module github.com/seed901663da/raft

go 1.25

require google.golang.org/protobuf v1.36.12
