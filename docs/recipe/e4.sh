#!/bin/bash
# Run from anywhere with SPROUT (the binary), DATA (go run ./bench/gocorpus -o gocorpus.txt) and OUT set; mkdir -p $OUT/e1 $OUT/e2 $OUT/e4 first.
# usage: e4.sh CORE WAITPATTERN NAME "FLAGS" [NAME "FLAGS"]...
core=$1; wait=$2; shift 2
while pgrep -f "$wait" > /dev/null; do sleep 20; done
while [ $# -gt 0 ]; do
  name=$1; flags=$2; shift 2
  o=${OUT:-runs}/e4/$name
  taskset -c $core ${SPROUT:-sprout} compare --data ${DATA:-gocorpus.txt} --layers 6 --dim 64 --heads 2 --ctx 128 --batch 16 \
    --steps 9000 --eval-every 450 --eval-windows 512 --workers 1 --recipe sprout --lr 0.008 --seed 1 $flags \
    --variants fixed,1-random@0.8 --out $o > $o.txt 2> $o.log
done
