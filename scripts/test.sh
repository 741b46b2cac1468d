#!/usr/bin/env bash
# test.sh runs every module's tests with the race detector: the library at
# the root, then the nested modules (bench/, raftexample/, ...). This is the
# test command README.md gives; `make test` and CI (.ci/run) call it.
#
# The race detector needs cgo and so a C compiler. Without one the tests
# still run, without -race, and the script says so.
set -euo pipefail
source "$(dirname "$0")/lib.sh" # cd to the repository root

race=(-race)
if ! command -v "$(go env CC)" >/dev/null 2>&1; then
	echo "test.sh: no C compiler ($(go env CC)); running without -race (apt-get install gcc to enable it)" >&2
	race=()
fi

rc=0
for mod in $(go_modules); do
	echo "== go test ${race[*]} ./... in module $mod"
	(cd "$mod" && CGO_ENABLED=1 go test "${race[@]}" "$@" ./...) || rc=1
done
exit $rc
