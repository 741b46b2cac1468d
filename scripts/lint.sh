#!/usr/bin/env bash
# lint.sh runs the static checks over every module in the repository.
#
# Usage: scripts/lint.sh [gofmt|vet|staticcheck]...   (default: all three)
#
# staticcheck is the version pinned in tools/go.mod, run with `go tool`, so
# it is built on first use and never enters the library's own go.mod.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

check_gofmt() {
	local bad
	bad=$(go_files | xargs -r gofmt -l) || return 1
	if [ -n "$bad" ]; then
		echo "gofmt: these files are not formatted (run: gofmt -w <file>):" >&2
		sed 's/^/    /' <<<"$bad" >&2
		return 1
	fi
	echo "gofmt: ok ($(go_files | wc -l) files)"
}

# The module loops keep going after a failure so one run reports every
# module's problems; set -e is off inside functions called from an if.
check_vet() {
	local mod rc=0
	for mod in $(go_modules); do
		echo "go vet: module $mod"
		(cd "$mod" && go vet ./...) || rc=1
	done
	return $rc
}

check_staticcheck() {
	local mod rc=0
	for mod in $(go_modules); do
		echo "staticcheck: module $mod"
		(cd "$mod" && go tool -modfile="$ROOT/tools/go.mod" staticcheck ./...) || rc=1
	done
	return $rc
}

steps=("$@")
if [ ${#steps[@]} -eq 0 ]; then
	steps=(gofmt vet staticcheck)
fi
failed=()
for s in "${steps[@]}"; do
	case "$s" in
	gofmt | vet | staticcheck) ;;
	*)
		echo "lint.sh: unknown check $s (want gofmt, vet or staticcheck)" >&2
		exit 2
		;;
	esac
	if ! "check_$s"; then
		failed+=("$s")
	fi
done
if [ ${#failed[@]} -ne 0 ]; then
	echo "lint: FAILED: ${failed[*]}" >&2
	exit 1
fi
