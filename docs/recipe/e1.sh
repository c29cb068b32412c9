#!/bin/bash
# Run from anywhere with SPROUT (the binary), DATA (go run ./bench/gocorpus -o gocorpus.txt) and OUT set; mkdir -p $OUT/e1 $OUT/e2 $OUT/e4 first.
# usage: e1.sh CORE RECIPE LRS...
core=$1; recipe=$2; shift 2
for lr in "$@"; do
  o=${OUT:-runs}/e1/$recipe-lr$lr
  taskset -c $core ${SPROUT:-sprout} compare --data ${DATA:-gocorpus.txt} --layers 6 --dim 64 --heads 2 --ctx 128 --batch 16 \
    --steps 3000 --eval-every 150 --eval-windows 512 --workers 1 --recipe $recipe --lr $lr --seed 1 \
    --variants fixed --out $o > $o.txt 2> $o.log
done
