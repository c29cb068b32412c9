#!/bin/bash
# Two `sprout bench train --workers 1` side by side: pinned one per core vs unpinned; old pool vs new.
# Then each binary alone (unpinned), --workers 1 and --workers 2.
B="bench train --layers 6 --dim 64 --heads 2 --ctx 128 --batch 16 --workers 1 --optimizer muon --steps ${STEPS:-300} --json"
out=${OUT_DIR:-.}/contend_ab.jsonl; : > $out
tps() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['tokens_per_s'])" $1 2>/dev/null || grep -ho '[0-9.]* tokens/s' $1; }
for r in 1 2 3; do
  for v in old new; do
    bin=${BIN_DIR:-.}/sprout-$v
    for mode in pinned unpinned; do
      if [ $mode = pinned ]; then taskset -c 0 $bin $B > /tmp/ca.txt 2>&1 & taskset -c 1 $bin $B > /tmp/cb.txt 2>&1; wait
      else $bin $B > /tmp/ca.txt 2>&1 & $bin $B > /tmp/cb.txt 2>&1; wait; fi
      echo "{\"round\":$r,\"bin\":\"$v\",\"mode\":\"$mode\",\"a\":$(tps /tmp/ca.txt),\"b\":$(tps /tmp/cb.txt)}" >> $out
    done
    for w in 1 2; do
      $bin ${B/--workers 1/--workers $w} > /tmp/ca.txt 2>&1
      echo "{\"round\":$r,\"bin\":\"$v\",\"mode\":\"alone-w$w\",\"a\":$(tps /tmp/ca.txt)}" >> $out
    done
  done
done
echo done
