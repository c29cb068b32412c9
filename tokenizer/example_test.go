package tokenizer_test

import (
	"fmt"

	"github.com/sproutml/sprout/tokenizer"
)

// GPT-2's ids for a sentence, and back; <|endoftext|> becomes its id only
// through EncodeSpecial.
func Example() {
	g, err := tokenizer.GPT2()
	if err != nil {
		fmt.Println(err)
		return
	}
	ids := g.Encode(nil, []byte("Hello world"))
	text, _ := g.Decode(nil, ids)
	fmt.Println(ids, string(text))
	fmt.Println(g.EncodeSpecial(nil, []byte("<|endoftext|>")), len(g.Encode(nil, []byte("<|endoftext|>"))))
	// Output:
	// [15496 995] Hello world
	// [50256] 7
}

// Train a small vocabulary; byte b stays id b. Merging stops early, at 267
// tokens, when no pair occurs twice.
func ExampleTrain() {
	text := []byte("low lower lowest low low lower newer newest new new\n")
	tok, err := tokenizer.Train(text, tokenizer.TrainOptions{Vocab: 270})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tok.VocabSize(), tok.Encode(nil, []byte("a")), len(tok.Encode(nil, []byte(" lower"))))
	// Output:
	// 267 [97] 1
}
