#!/usr/bin/env bash
# run.sh runs the comparison workloads against this library, etcd raft
# v3.7.0 and etcd raft v3.6.0, interleaved, and prints benchstat's summary
# and the ratio tables of cmd/ratios (the tables BENCHMARKS.md holds).
#
# Usage: bench/run.sh            (from anywhere)
#
# Knobs (environment):
#   ROUNDS=6        rounds; each runs every workload once per implementation
#   BENCHTIME=1s    -test.benchtime of each run
#   BENCH=regexp    only top-level benchmarks matching it (default: all)
#   OUT=dir         where the raw outputs go (default: a new temp dir)
#
# Each implementation's benchmarks are compiled once into a test binary.
# Within a round, every workload is run for each implementation in turn
# (count 1 each), and the implementation that goes first rotates from round
# to round, so slow drift of the machine (other load, thermal state) hits
# all three alike. The medians over the rounds are what the tables report.
set -euo pipefail
cd "$(dirname "$0")"
# The modules are built on their own, not as a workspace: etcd36 needs
# etcd raft v3.6.0, which a workspace holding ./bench (v3.7.0) cannot have.
export GOWORK=off

ROUNDS=${ROUNDS:-6}
BENCHTIME=${BENCHTIME:-1s}
BENCH=${BENCH:-.}
OUT=${OUT:-$(mktemp -d -t raftbench.XXXXXX)}
mkdir -p "$OUT"

impls=(ours etcd37 etcd36)
workloads=(RawNode Node FollowerStep Election)

echo "building test binaries into $OUT" >&2
go test -c -o "$OUT/ours.test" ./ours
go test -c -o "$OUT/etcd37.test" ./etcd37
(cd etcd36 && go test -c -o "$OUT/etcd36.test" .)
go build -o "$OUT/ratios" ./cmd/ratios
for impl in "${impls[@]}"; do
	: >"$OUT/$impl.txt"
done

selected=()
for w in "${workloads[@]}"; do
	if [[ "Benchmark$w" =~ $BENCH ]]; then
		selected+=("$w")
	fi
done
if [ ${#selected[@]} -eq 0 ]; then
	echo "run.sh: BENCH=$BENCH selects no workload of: ${workloads[*]}" >&2
	exit 2
fi

start=$SECONDS
for ((r = 0; r < ROUNDS; r++)); do
	echo "round $((r + 1))/$ROUNDS ($((SECONDS - start))s elapsed)" >&2
	for w in "${selected[@]}"; do
		for ((i = 0; i < ${#impls[@]}; i++)); do
			impl=${impls[$(((i + r) % ${#impls[@]}))]}
			"$OUT/$impl.test" -test.run '^$' -test.bench "^Benchmark$w\$" \
				-test.benchtime "$BENCHTIME" -test.count 1 >>"$OUT/$impl.txt"
		done
	done
done

echo
echo "## benchstat (ours vs etcd37 vs etcd36; pkg ignored so rows line up)"
go tool benchstat -ignore pkg ours="$OUT/ours.txt" etcd37="$OUT/etcd37.txt" etcd36="$OUT/etcd36.txt"
echo
echo "## ratios"
"$OUT/ratios" ours="$OUT/ours.txt" "etcd 3.7=$OUT/etcd37.txt" "etcd 3.6=$OUT/etcd36.txt"
echo
echo "raw outputs: $OUT ($((SECONDS - start))s of benchmarks)" >&2
