#!/usr/bin/env bash
# fuzz-smoke.sh runs every Fuzz* target in the repository for a short time
# each (FUZZTIME, default 5s). It is a smoke test: it catches a fuzz target
# that crashes on its seed corpus or within seconds, not a substitute for
# long fuzzing runs. A crasher is written to the package's testdata/fuzz
# directory by `go test`; commit it as a regression case once fixed.
#
# Usage: FUZZTIME=10s scripts/fuzz-smoke.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"

fuzztime=${FUZZTIME:-5s}
total=0
for mod in $(go_modules); do
	# `go test -list` prints each matching name on its own line, then one
	# "ok  <pkg>" line per package; names seen before that line belong to it.
	list=$(cd "$mod" && go test -run '^$' -list '^Fuzz' ./...)
	names=()
	while IFS= read -r line; do
		case "$line" in
		Fuzz*) names+=("$line") ;;
		"ok "*)
			pkg=$(awk '{print $2}' <<<"$line")
			for name in "${names[@]}"; do
				echo "== $pkg $name ($fuzztime)"
				(cd "$mod" && go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg")
				total=$((total + 1))
			done
			names=()
			;;
		esac
	done <<<"$list"
done
if [ "$total" -eq 0 ]; then
	echo "fuzz-smoke: no Fuzz* targets in the repository yet"
else
	echo "fuzz-smoke: $total target(s) ran for $fuzztime each"
fi
