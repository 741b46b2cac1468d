# lib.sh is sourced by the other scripts and by .ci/run; it is not run
# directly. It moves to the repository root and defines the helpers they
# share, so every entry point agrees on which modules and files exist.

# ROOT is the repository root, found from this file's location so the
# scripts work from any directory and without git installed.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

# The scripts check each module on its own, as its go.mod (with its replace
# directives) describes it, not through the developer workspace go.work:
# -modfile (used for the pinned tools) is refused in workspace mode, and
# bench/etcd36 needs an etcd raft version the workspace cannot hold.
export GOWORK=off

# go_modules prints the directory of every Go module in the repository: the
# library at the root, then the nested modules (each with its own go.mod)
# that exist so far. Keep this list in step with README.md's layout.
go_modules() {
	local mod
	for mod in . bench bench/benchkit bench/etcd36 raftexample; do
		if [ -f "$mod/go.mod" ]; then
			echo "$mod"
		fi
	done
}

# go_files prints every Go source file, skipping testdata (which may hold
# deliberately odd Go) and hidden or underscore directories, which the go
# tool ignores too.
go_files() {
	find . \( -name testdata -o -name '.?*' -o -name '_?*' \) -prune \
		-o -type f -name '*.go' -print | sort
}
