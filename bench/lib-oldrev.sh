# shellcheck shell=bash
# lib-oldrev.sh: an older commit of this tree built beside the build being
# measured, so that a benchmark sets a change against the tree before it in
# the same run (ldap-bench.sh's concurrency case, bench_helper_vs_samba.sh
# with OLD_REV). Sourced.
#
# old_build SRC REV DIR SUBDIR...
#   checks commit REV of the git repository SRC out in DIR (a detached
#   worktree), configures it in DIR/build (the old build's top directory)
#   and builds each SUBDIR there, in order; returns 1 when any step fails.
# old_remove SRC DIR
#   removes that worktree (and its build); nothing when there is none.

old_build() {
	local src=$1 rev=$2 dir=$3 d
	shift 3
	git -C "$src" worktree add --quiet --detach "$dir" "$rev" || return 1
	(cd "$dir" && ./autogen.sh >/dev/null 2>&1) || return 1
	mkdir -p "$dir/build"
	(cd "$dir/build" && ../configure --quiet >/dev/null) || return 1
	for d in "$@"; do
		make -s -j2 -C "$dir/build/$d" >/dev/null 2>&1 || return 1
	done
}

old_remove() {
	[ -d "$2" ] || return 0
	git -C "$1" worktree remove --force "$2" 2>/dev/null
	return 0
}
