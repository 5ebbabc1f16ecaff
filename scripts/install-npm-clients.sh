#!/bin/sh
# Installs the npm clients of tests/interop/test-matrix.sh (httpntlm,
# axios-ntlm) into DIR/node_modules, exactly as tests/interop/node's
# package-lock.json pins them (npm ci), never globally. Idempotent: nothing
# is fetched when DIR already holds this lock's install.
# Usage: scripts/install-npm-clients.sh DIR    (make check uses
#        BUILD/tests/interop/node)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:?usage: install-npm-clients.sh DIR}
src=$top/tests/interop/node
mkdir -p "$dir"
if [ -d "$dir/node_modules" ] && cmp -s "$src/package-lock.json" "$dir/package-lock.json"; then
	echo "install-npm-clients: up to date in $dir"
	exit 0
fi
command -v npm >/dev/null 2>&1 || {
	echo "install-npm-clients: npm is missing (scripts/install-deps.sh installs it)" >&2
	exit 1
}
cp "$src/package.json" "$src/package-lock.json" "$dir/"
cd "$dir"
npm ci --no-audit --no-fund --ignore-scripts --cache "$dir/.npm-cache" --loglevel=error
echo "install-npm-clients: installed in $dir"
