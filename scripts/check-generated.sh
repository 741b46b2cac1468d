#!/usr/bin/env bash
# check-generated.sh fails when a committed *.pb.go under raftpb/ is not what
# raftpb/*.proto generates today.
#
# It regenerates into a temporary directory with protoc (Debian's
# protobuf-compiler package is enough) and the protoc-gen-go pinned in
# tools/go.mod, then compares with the committed files. protoc-gen-go writes
# the protoc version into a header comment; `buf generate` writes "(unknown)"
# there, so that one line is ignored. Every other byte must match.
#
# Usage: scripts/check-generated.sh   (from anywhere inside the repository)
set -euo pipefail

source "$(dirname "$0")/lib.sh" # cd to the repository root

if ! command -v protoc >/dev/null 2>&1; then
	echo "check-generated: protoc not found; install it (Debian/Ubuntu: apt-get install -y protobuf-compiler)" >&2
	exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The plugin comes from the same pin that `make generate` uses.
go build -modfile=tools/go.mod -o "$tmp/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go

mkdir -p "$tmp/out"
protos=(raftpb/*.proto)
# -I raftpb makes each "source:" header name the bare file, as buf does
# (buf.yaml declares raftpb as the module root).
protoc \
	--plugin=protoc-gen-go="$tmp/protoc-gen-go" \
	-I raftpb \
	--go_out="$tmp/out" --go_opt=paths=source_relative \
	"${protos[@]}"

# Drops the protoc version header line and nothing else.
strip() { sed -e '/^\/\/ 	protoc        /d' "$1"; }

stale=()
for gen in "$tmp"/out/*.pb.go; do
	name=$(basename "$gen")
	committed="raftpb/$name"
	if [ ! -f "$committed" ]; then
		echo "check-generated: $committed is missing" >&2
		stale+=("$committed")
		continue
	fi
	if ! diff -u --label "$committed (committed)" --label "$committed (regenerated)" \
		<(strip "$committed") <(strip "$gen") >&2; then
		stale+=("$committed")
	fi
done
# A .pb.go whose .proto was deleted or renamed is stale too.
for committed in raftpb/*.pb.go; do
	[ -e "$committed" ] || continue
	if [ ! -f "$tmp/out/$(basename "$committed")" ]; then
		echo "check-generated: $committed has no source .proto any more" >&2
		stale+=("$committed")
	fi
done

if [ ${#stale[@]} -ne 0 ]; then
	cat >&2 <<MSG

check-generated: FAILED, out of date: ${stale[*]}
Regenerate from raftpb/*.proto and commit the result:
    make generate        (buf, pinned in tools/buf/go.mod)
or, with only protoc installed:
    go build -modfile=tools/go.mod -o /tmp/protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go
    protoc --plugin=protoc-gen-go=/tmp/protoc-gen-go -I raftpb --go_out=raftpb --go_opt=paths=source_relative raftpb/*.proto
Never edit *.pb.go by hand.
MSG
	exit 1
fi
echo "check-generated: ok (${#protos[@]} proto file(s) match their .pb.go)"
