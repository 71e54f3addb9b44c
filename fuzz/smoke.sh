#!/usr/bin/env bash
# A short fuzz run for `make test`: the seed corpus is copied so the tree never grows.
set -euo pipefail
bin=$1 corpus=$2 seconds=${3:-10}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -d "$corpus" ] && cp -r "$corpus/." "$work/"
cd "$work"
"$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 "$work" 2>&1 | tail -n 20
