#!/usr/bin/env bash
# Multi-core and AVX-512 checks on a machine that has no Go toolchain.
#
#   bench/multicore.sh build DIR   # here: test binaries of every package and the sprout binary into DIR
#   bench/multicore.sh run DIR OUT # there: the whole suite on every kernel path the CPU has, then
#                                  # GEMM and training scaling over 1..N threads; logs into OUT
#                                  # (PATHS="avx512" and THREADS="1 16" narrow it)
#
# The cmd/sprout tests build the binary with `go build`, so they are left out
# where there is no Go; everything else runs.
set -euo pipefail
mode=${1:?build or run}; dir=${2:?directory}
root=$(cd "$(dirname "$0")/.." && pwd)

if [ "$mode" = build ]; then
  mkdir -p "$dir"
  cd "$root"
  for pkg in $(go list ./... | grep -v /cmd/sprout); do
    name=$(echo "${pkg#github.com/sproutml/sprout}" | tr / _); name=${name#_}
    go test -c -ldflags=-s -o "$dir/${name:-root}.test" "$pkg" 2>/dev/null || true
  done
  CGO_ENABLED=0 go build -ldflags=-s -o "$dir/sprout" ./cmd/sprout
  ls "$dir"
  exit 0
fi

out=${3:?output directory}; mkdir -p "$out"
dir=$(cd "$dir" && pwd)
cd "$root"
cores=$(nproc)
{ echo "cores: $cores"; grep -m1 'model name' /proc/cpuinfo; grep -o 'avx512[a-z]*' /proc/cpuinfo | sort -u | tr '\n' ' '; echo; "$dir/sprout" version; } | tee "$out/machine.txt"

status=0
paths=${PATHS:-$("$dir/sprout" version | sed -n 's/.*supported: \(.*\))/\1/p' | tr -d ,)}
for path in $paths; do
  for t in "$dir"/*.test; do
    pkg=$(basename "$t" .test | tr _ /)
    [ -d "$root/$pkg" ] || continue
    if (cd "$root/$pkg" && SPROUT_KERNEL=$path timeout 300 "$t" -test.short >"$out/test-$path-$(basename "$t").log" 2>&1); then
      echo "PASS $path $pkg"
    else
      echo "FAIL $path $pkg (see test-$path-$(basename "$t").log)"; status=1
    fi
  done
done | tee "$out/suite.txt"

threads=${THREADS:-"1 2 4 8 $cores"}
for n in $threads; do
  "$dir/sprout" bench gemm --threads "$n" --shapes 1024,2048,4096x256x768NT,4096x1024x256NN --json
done >"$out/gemm.jsonl" 2>&1 || true
for w in $threads; do
  GOMAXPROCS=$w "$dir/sprout" bench train --workers "$w" --steps 6 --warmup-steps 2 --json
done >"$out/train.jsonl" 2>&1 || true
exit $status
