#!/bin/sh
# Builds the Debian packages (debian/) once, with "dpkg-buildpackage -us -uc
# -b", in a copy of this tree (the tree itself, and any build directory in
# it, stays as it is), and puts the .deb, .changes and .buildinfo files
# into OUTDIR (default: build/debs; emptied first). Extra environment:
# DEB_BUILD_OPTIONS (CI passes nocheck: it runs the test suite itself).
# Usage (as root or not, on Debian 12 with scripts/install-deps.sh run):
#   scripts/build-debs.sh [OUTDIR]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/build/debs}

version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
source=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Source)
work=$(mktemp -d "${TMPDIR:-/tmp}/build-debs.XXXXXX")
trap 'rm -rf "$work"' EXIT
src=$work/$source-$version

# the files git knows (tracked, or new and not ignored): no build tree, no
# generated configure
mkdir -p "$src"
(cd "$top" && git ls-files -z --cached --others --exclude-standard |
	tar --null --ignore-failed-read -T - -cf -) | tar -xf - -C "$src"

mkdir -p "$out"
rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo "$out/build.log"
start=$(date +%s)
if ! (cd "$src" && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1; then
	tail -n 60 "$out/build.log" >&2
	echo "build-debs: dpkg-buildpackage failed (log: $out/build.log)" >&2
	exit 1
fi
cp "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out"/
echo "build-debs: $(ls "$out"/*.deb | wc -l) packages in $out ($(($(date +%s) - start)) s)"
