#!/usr/bin/env bash
# kvcompare.sh loads a 3-node etcd-server cluster and a 3-node raftexample
# cluster, one after the other on this machine, with the same kvbench runs,
# and prints the results side by side with the verdict on issue 8's target:
# raftexample's write throughput at least 3× etcd's, with a p99 no higher.
#
# Usage: bench/kvcompare.sh            (from anywhere; installs etcd-server
#                                       with apt-get when etcd is missing)
#
# Knobs (environment):
#   DURATION=20s    measured time of each kvbench run
#   WARMUP=3s       unmeasured load before it
#   CLIENTS=64      concurrent clients
#   VALUE_SIZE=256  bytes per value
#   KEYS=10000      key space
#   READ_RATIO=0.5  GET fraction of the mixed run
#   ROUNDS=1        rounds; each starts each cluster afresh and runs both
#                   loads on it, the system that goes first alternating, and
#                   the tables show per-figure medians over the rounds
#   SYSTEMS="etcd raftexample"   which systems to run (the comparison needs both)
#   RAFTEXAMPLE_FLAGS=""         extra raftexample flags, e.g. "-snapshot-entries 100000"
#                                (etcd 3.4's default --snapshot-count is 100000)
#   OUT=dir         where binaries, data, logs and JSON results go
#                   (default: a new temp dir, kept for inspection)
#
# kvbench also reports the CPU time the servers used per request (from
# /proc), which shows the cost of each system even on a busy machine.
#
# Both clusters run with fsync on (their defaults), on loopback, with their
# data in $OUT. Each gets two runs on the same cluster: writes only, then
# the mixed run, whose reads find the keys the first run wrote. raftexample
# is built from ../raftexample (the binary `go run ./raftexample` would
# build) and started in its one-command mode: three nodes in one process.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# Nested modules are built on their own, as their go.mod describes them.
export GOWORK=off

DURATION=${DURATION:-20s}
WARMUP=${WARMUP:-3s}
CLIENTS=${CLIENTS:-64}
VALUE_SIZE=${VALUE_SIZE:-256}
KEYS=${KEYS:-10000}
READ_RATIO=${READ_RATIO:-0.5}
SYSTEMS=${SYSTEMS:-etcd raftexample}
ROUNDS=${ROUNDS:-1}
RAFTEXAMPLE_FLAGS=${RAFTEXAMPLE_FLAGS:-}
OUT=${OUT:-$(mktemp -d -t kvcompare.XXXXXX)}
mkdir -p "$OUT"

# Ports: etcd's are kept apart from raftexample's defaults so that a
# leftover of one run cannot answer for the other.
ETCD_CLIENT_PORTS=(41379 42379 43379)
ETCD_PEER_PORTS=(41380 42380 43380)
RAFTEXAMPLE_ENDPOINTS=${RAFTEXAMPLE_ENDPOINTS:-http://127.0.0.1:12381,http://127.0.0.1:12382,http://127.0.0.1:12383}

# pids holds the servers this script started; cleanup stops exactly those.
pids=()
cleanup() {
	local pid
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	pids=()
}
trap cleanup EXIT INT TERM

log() { echo "kvcompare: $*" >&2; }

# wait_ready URL... polls each URL until it answers 200 (at most 60 s).
wait_ready() {
	local url deadline=$((SECONDS + 60))
	for url in "$@"; do
		until curl -fsS -o /dev/null --max-time 2 "$url"; do
			if ((SECONDS > deadline)); then
				log "$url did not become ready; logs are in $OUT"
				return 1
			fi
			sleep 0.5
		done
	done
}

install_etcd() {
	if command -v etcd >/dev/null; then
		return
	fi
	log "etcd not found; installing the Debian package etcd-server"
	local sudo=
	if [ "$(id -u)" != 0 ]; then
		sudo=sudo
	fi
	$sudo apt-get update
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y etcd-server
}

machine() {
	echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/^Mem:/ {print $2}') GiB RAM, $(uname -sr)"
	echo "data dir: $OUT on $(df -T "$OUT" | awk 'NR==2 {print $1, $2}')"
	echo "go: $(go version | cut -d' ' -f3-)"
	if command -v etcd >/dev/null; then
		echo "etcd: $(etcd --version | head -1)"
	fi
	echo "raftexample: $(git -C "$ROOT" log -1 --format='%h %s' -- raftexample ':!raftexample/cmd' 2>/dev/null || echo unknown)"
	echo "raftexample flags: -data-dir $OUT/raftexample-data $RAFTEXAMPLE_FLAGS"
	echo "load: $CLIENTS clients, $VALUE_SIZE-byte values, $KEYS keys, $WARMUP warmup + $DURATION; mixed run GET ratio $READ_RATIO"
}

# bench NAME TARGET ENDPOINTS: the writes-only run, then the mixed run, of
# round $round.
bench() {
	local name=$1 target=$2 endpoints=$3
	# -cpu-pids: the servers' CPU time per request, the figure least
	# disturbed by whatever else the machine is running.
	local common=(-target "$target" -endpoints "$endpoints" -clients "$CLIENTS" -value-size "$VALUE_SIZE"
		-keys "$KEYS" -duration "$DURATION" -warmup "$WARMUP" -cpu-pids "$(
			IFS=,
			echo "${pids[*]}"
		)")
	log "round $round, $name: writes only"
	"$OUT/kvbench" "${common[@]}" -read-ratio 0 -label "$name" -out "$OUT/$name-write-$round.json"
	log "round $round, $name: mixed, GET ratio $READ_RATIO"
	"$OUT/kvbench" "${common[@]}" -read-ratio "$READ_RATIO" -label "$name" -out "$OUT/$name-mixed-$round.json"
}

run_etcd() {
	install_etcd
	local i cluster="" endpoints=""
	for i in 0 1 2; do
		cluster+="${cluster:+,}e$i=http://127.0.0.1:${ETCD_PEER_PORTS[i]}"
		endpoints+="${endpoints:+,}http://127.0.0.1:${ETCD_CLIENT_PORTS[i]}"
	done
	rm -rf "$OUT/etcd"
	mkdir -p "$OUT/etcd"
	for i in 0 1 2; do
		etcd --name "e$i" --data-dir "$OUT/etcd/e$i" \
			--listen-client-urls "http://127.0.0.1:${ETCD_CLIENT_PORTS[i]}" \
			--advertise-client-urls "http://127.0.0.1:${ETCD_CLIENT_PORTS[i]}" \
			--listen-peer-urls "http://127.0.0.1:${ETCD_PEER_PORTS[i]}" \
			--initial-advertise-peer-urls "http://127.0.0.1:${ETCD_PEER_PORTS[i]}" \
			--initial-cluster "$cluster" --initial-cluster-token kvcompare \
			--initial-cluster-state new >"$OUT/etcd/e$i.log" 2>&1 &
		pids+=($!)
	done
	local urls=()
	for i in 0 1 2; do
		urls+=("http://127.0.0.1:${ETCD_CLIENT_PORTS[i]}/health")
	done
	wait_ready "${urls[@]}"
	bench etcd etcd "$endpoints"
	cleanup
}

run_raftexample() {
	rm -rf "$OUT/raftexample-data"
	# RAFTEXAMPLE_FLAGS is split into words on purpose.
	# shellcheck disable=SC2086
	(cd "$OUT" && exec "$OUT/raftexample" -data-dir "$OUT/raftexample-data" $RAFTEXAMPLE_FLAGS) >"$OUT/raftexample.log" 2>&1 &
	pids+=($!)
	local ep urls=()
	for ep in ${RAFTEXAMPLE_ENDPOINTS//,/ }; do
		urls+=("$ep/cluster/status")
	done
	wait_ready "${urls[@]}"
	bench raftexample raftexample "$RAFTEXAMPLE_ENDPOINTS"
	cleanup
}

log "building kvbench into $OUT"
(cd "$ROOT/raftexample" && go build -o "$OUT/kvbench" ./cmd/kvbench)
if [[ " $SYSTEMS " == *" raftexample "* ]]; then
	log "building raftexample into $OUT"
	(cd "$ROOT/raftexample" && go build -o "$OUT/raftexample" .)
fi

systems=($SYSTEMS)
for ((round = 1; round <= ROUNDS; round++)); do
	for ((i = 0; i < ${#systems[@]}; i++)); do
		# Rotate who goes first, so slow drift of the machine hits both.
		sys=${systems[(i + round - 1) % ${#systems[@]}]}
		case $sys in
		etcd) run_etcd ;;
		raftexample) run_raftexample ;;
		*)
			log "unknown system $sys in SYSTEMS (want etcd and/or raftexample)"
			exit 2
			;;
		esac
	done
done

# runs NAME LOAD prints NAME's result files for LOAD, comma-separated.
runs() {
	local f list=""
	for ((round = 1; round <= ROUNDS; round++)); do
		f="$OUT/$1-$2-$round.json"
		[ -f "$f" ] && list+="${list:+,}$f"
	done
	echo "$list"
}

echo
machine
echo "rounds: $ROUNDS"
if [ -n "$(runs etcd write)" ] && [ -n "$(runs raftexample write)" ]; then
	echo
	echo "== writes only"
	"$OUT/kvbench" compare -min-put-ratio 3 -max-p99-ratio 1 \
		etcd="$(runs etcd write)" raftexample="$(runs raftexample write)"
	echo
	echo "== mixed (GET ratio $READ_RATIO)"
	"$OUT/kvbench" compare etcd="$(runs etcd mixed)" raftexample="$(runs raftexample mixed)"
else
	for sys in "${systems[@]}"; do
		for load in write mixed; do
			[ -n "$(runs "$sys" $load)" ] && "$OUT/kvbench" compare "$sys-$load=$(runs "$sys" $load)"
		done
	done
fi
echo
echo "results and logs: $OUT"
