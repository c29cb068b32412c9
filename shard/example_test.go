package shard_test

import (
	"fmt"

	"github.com/sproutml/sprout/shard"
)

// A vocabulary past 65536 ids (LLaMA-3's 128256) needs uint32 tokens.
func ExampleWidthFor() {
	fmt.Println(shard.WidthFor(256), shard.WidthFor(50257), shard.WidthFor(128256))
	// Output: 2 2 4
}
