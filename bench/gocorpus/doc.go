// Command gocorpus writes a byte-level training corpus made of the Go
// standard library's source: a large, real text that every machine with a Go
// toolchain has, for experiments that must not repeat their data (the
// tinyshakespeare corpus is seen several times in a few thousand steps).
//
//	go run ./bench/gocorpus -o /tmp/gocorpus.txt
//	sprout compare --data /tmp/gocorpus.txt ...
//
// It takes the non-test .go files under $GOROOT/src (testdata excluded, files
// over 200 KB skipped: generated tables), shuffles them with a fixed seed so
// that the trainer's validation tail (its last 10%) is a mix of packages, not
// one directory, and concatenates them up to -bytes. The corpus depends on
// the Go release only.
package main
