#!/usr/bin/env bash
# Installs GitHub's @github/local-action (pinned) into a cache dir outside this project and prints
# the path of its bin. It is not a devDependency: it brings @actions/artifact and the Azure SDK,
# whose releases declare node >=22, and `npm ci` must stay warning-free on Node 20.
# Usage: BREAKGLASS_LOCAL_ACTION="$(scripts/local-action-from-registry.sh)" npm test -- test/action/local-action
set -euo pipefail
version="7.0.1"
dir="${BREAKGLASS_NODE_CACHE:-${RUNNER_TEMP:-/tmp}/breakglass-node}/local-action-$version"
if [ ! -x "$dir/node_modules/.bin/local-action" ]; then
  mkdir -p "$dir"
  [ -f "$dir/package.json" ] || echo '{"name":"breakglass-local-action","private":true}' > "$dir/package.json"
  npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "@github/local-action@$version" >&2
fi
echo "$dir/node_modules/.bin/local-action"
