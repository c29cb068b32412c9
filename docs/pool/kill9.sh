#!/bin/bash
# A default `sprout train` killed with kill -9 at 60% of its steps, then resumed.
bin=${BIN:-./sprout}; dir=/tmp/k9; rm -rf $dir
$bin train --out $dir --json > ${OUT_DIR:-.}/k9.jsonl 2> ${OUT_DIR:-.}/k9.err &
pid=$!
while ! grep -q '"event":"step","step":1210,' ${OUT_DIR:-.}/k9.jsonl 2>/dev/null; do sleep 0.2; done
kill -9 $pid; wait $pid 2>/dev/null; echo "killed at step $(grep -o '"event":"step","step":[0-9]*' ${OUT_DIR:-.}/k9.jsonl | tail -1 | grep -o '[0-9]*$'), exit $?"
echo "checkpoints written: $(grep -o '"event":"checkpoint","step":[0-9]*' ${OUT_DIR:-.}/k9.jsonl | grep -o '[0-9]*$' | tr '\n' ' ')"
$bin inspect $dir 2>&1 | head -3
$bin train --resume $dir --json > ${OUT_DIR:-.}/k9-resume.jsonl 2> ${OUT_DIR:-.}/k9-resume.err; echo "resume exit $?"
echo "resumed first step: $(grep -o '"event":"step","step":[0-9]*' ${OUT_DIR:-.}/k9-resume.jsonl | head -1 | grep -o '[0-9]*$'), last: $(grep -o '"event":"step","step":[0-9]*' ${OUT_DIR:-.}/k9-resume.jsonl | tail -1 | grep -o '[0-9]*$')"
tail -4 ${OUT_DIR:-.}/k9-resume.err
