#!/bin/bash
# Checkpoint cost at width 768: one run with the default (--checkpoint-every -1), one with 0.
bin=${BIN:-./sprout}
A="train --layers 12 --dim 768 --heads 12 --ctx 128 --batch 4 --steps 40 --eval-every 10 --eval-windows 8 --grow-from off --sample-tokens 0 --json --force"
for ce in -1 0; do
  rm -rf /tmp/ck768
  /usr/bin/time -f "wall %e s" $bin $A --checkpoint-every $ce --out /tmp/ck768 > ${OUT_DIR:-.}/ck768_$ce.jsonl 2> ${OUT_DIR:-.}/ck768_$ce.err
  echo "checkpoint-every $ce: $(tail -1 ${OUT_DIR:-.}/ck768_$ce.err); checkpoints: $(grep -c '"event":"checkpoint"' ${OUT_DIR:-.}/ck768_$ce.jsonl)"
done
du -sh /tmp/ck768
