#!/usr/bin/env bash
# sprout's GPT-2 encoding against npm tiktoken (WASM) on the same 3 MB of Go
# source, side by side in one run, and a check that both give the same ids.
# Skips when node or npm (or the registry) is missing.
# Usage: bash bench/tokenizer/compare.sh [MB]
set -euo pipefail
cd "$(dirname "$0")/../.."
mb=${1:-3}
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "skipped: node and npm are not installed"; exit 0
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
if ! (cd "$tmp" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund tiktoken@1 >/dev/null 2>&1); then
  echo "skipped: npm could not install tiktoken (no registry?)"; exit 0
fi
go build -o "$tmp/sprout" ./cmd/sprout
go run ./bench/gocorpus -o "$tmp/text.txt" -bytes "$((mb * 1000000))" >/dev/null
"$tmp/sprout" tokenize --tokenizer gpt2 --data "$tmp/text.txt" --out "$tmp/ids.bin" >/dev/null 2>&1
cp bench/tokenizer/tiktoken_bench.mjs "$tmp/"
for round in 1 2; do
  echo "-- round $round"
  "$tmp/sprout" bench tokenize --data "$tmp/text.txt" --runs 3
  (cd "$tmp" && node tiktoken_bench.mjs text.txt 3 ids.bin)
done
