#!/usr/bin/env bash
# lint.sh runs the static checks over every module in the repository.
#
# Usage: scripts/lint.sh [gofmt|vet|staticcheck|tidy]...   (default: all four)
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

# check_tidy fails when `go mod tidy` would change a module's go.mod or
# go.sum (a direct dependency marked indirect, a missing or stale sum). Each
# module is checked on its own (GOWORK=off), as a user of it would build it.
# tools/ (staticcheck, protoc-gen-go) is checked too. tools/buf is not: its
# module graph is about 570 MB to download, and CI never builds buf.
check_tidy() {
	local mod out rc=0
	for mod in $(go_modules) tools; do
		[ -f "$mod/go.mod" ] || continue
		if ! out=$(cd "$mod" && GOWORK=off go mod tidy -diff 2>&1); then
			echo "go mod tidy: module $mod is not tidy (run: cd $mod && GOWORK=off go mod tidy):" >&2
			sed 's/^/    /' <<<"$out" | head -40 >&2
			rc=1
		fi
	done
	[ $rc -eq 0 ] && echo "go mod tidy: ok"
	return $rc
}

steps=("$@")
if [ ${#steps[@]} -eq 0 ]; then
	steps=(gofmt vet staticcheck tidy)
fi
failed=()
for s in "${steps[@]}"; do
	case "$s" in
	gofmt | vet | staticcheck | tidy) ;;
	*)
		echo "lint.sh: unknown check $s (want gofmt, vet, staticcheck or tidy)" >&2
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
