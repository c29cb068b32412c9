#!/bin/bash
# soak.sh BIN TAG: three unpinned `sprout train --workers 1` side by side for 10 minutes each.
bin=$1; tag=$2; dir=/tmp/soak-$tag; rm -rf $dir; mkdir -p $dir
for i in 1 2 3; do
  ( cd $dir && nice -n ${NICE:-0} timeout -s INT 600 $bin train --layers 6 --dim 64 --heads 2 --ctx 128 --batch 16 --workers 1 \
      --steps 1000000 --grow-from off --eval-every 500 --sample-tokens 0 --seed $i --out $dir/run$i > $dir/log$i.txt 2>&1; echo "exit $?" >> $dir/log$i.txt ) &
done
wait
for i in 1 2 3; do echo "== $tag run$i: $(grep -c . $dir/log$i.txt) lines; $(tail -3 $dir/log$i.txt | tr '\n' ' ')"; done
