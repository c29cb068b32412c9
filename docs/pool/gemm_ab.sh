#!/bin/bash
# A/B: old pool (b05feca) vs new pool, sprout bench gemm, and OpenBLAS, alternating.
S=64,96,128,192,256,1024,4096x256x768
out=${OUT_DIR:-.}/gemm_ab.jsonl
: > $out
for r in 1 2 3 4 5; do
  for th in 2 1; do
    for v in old new; do
      ${BIN_DIR:-.}/sprout-$v bench gemm --threads $th --shapes $S --json 2>/dev/null | sed "s/^{/{\"bin\":\"$v\",\"round\":$r,/" >> $out
    done
    for sh in "64 64 64" "96 96 96" "128 128 128" "192 192 192" "256 256 256" "1024 1024 1024" "4096 256 768"; do
      OPENBLAS_CORETYPE=SkylakeX OPENBLAS_NUM_THREADS=$th ${OSG:-/tmp/osg} $sh NN | tail -1 | awk -v r=$r -v th=$th -v sh="$sh" '{for(i=1;i<=NF;i++) if($i ~ /^median=/ && $(i-1) ~ /GFLOP/) {split($i,a,"="); g=a[2]}; gsub(/ /,"x",sh); printf "{\"bin\":\"openblas\",\"round\":%d,\"threads\":%d,\"shape\":\"%s NN\",\"sprout_gflops\":%s}\n", r, th, sh, g}' >> $out
    done
  done
done
echo done
