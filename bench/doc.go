// Package bench holds sprout's benchmarks (`go test -bench`) that compare it
// with the libraries a user would pick instead. It may import anything;
// nothing imports it.
package bench
