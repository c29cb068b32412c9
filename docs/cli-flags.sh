#!/usr/bin/env bash
# Regenerates the flag lists of docs/cli.md from the commands themselves, so
# that they are what `sprout CMD -h` prints. Each list sits between
#   <!-- flags: CMD -->   and   <!-- end flags -->
# (CMD as typed after `sprout`, e.g. "train" or "bench gemm"; "help" for the
# command list). With --check it changes nothing and fails when a list is out
# of date.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/sprout" ./cmd/sprout
awk -v bin="$tmp/sprout" '
/^<!-- flags: .* -->$/ {
  print
  cmd = $0; sub(/^<!-- flags: /, "", cmd); sub(/ -->$/, "", cmd)
  run = bin " " cmd (cmd == "help" ? "" : " -h")
  print "```text"
  while ((run | getline line) > 0) print line
  if (close(run) != 0) { print "sprout " cmd ": -h failed" > "/dev/stderr"; exit 1 }
  print "```"
  skip = 1
  next
}
/^<!-- end flags -->$/ { skip = 0 }
!skip { print }
' docs/cli.md > "$tmp/cli.md"
if [ "${1:-}" = --check ]; then
  if ! diff -u docs/cli.md "$tmp/cli.md"; then
    echo "docs/cli.md is out of date: run docs/cli-flags.sh" >&2
    exit 1
  fi
  exit 0
fi
cp "$tmp/cli.md" docs/cli.md
