#!/bin/bash
# Run from anywhere with SPROUT (the binary), DATA (go run ./bench/gocorpus -o gocorpus.txt) and OUT set; mkdir -p $OUT/e1 $OUT/e2 $OUT/e4 first.
# usage: e2.sh CORE RECIPE LR SEEDS...
core=$1; recipe=$2; lr=$3; shift 3
for s in "$@"; do
  o=${OUT:-runs}/e2/$recipe-s$s
  taskset -c $core ${SPROUT:-sprout} compare --data ${DATA:-gocorpus.txt} --layers 6 --dim 64 --heads 2 --ctx 128 --batch 16 \
    --steps 9000 --eval-every 450 --eval-windows 512 --workers 1 --recipe $recipe --lr $lr --seed $s \
    --variants fixed,1-random@0.8,0-random@0.8 --out $o > $o.txt 2> $o.log
done
