package chunk_test

import (
	"fmt"

	"github.com/unstract/hatchet-worker/helpers/chunk"
)

func ExampleSplit() {
	chunks, err := chunk.Split("Invoice total is 42 EUR.\n\nPay within 30 days.", 30, 5)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range chunks {
		fmt.Printf("%d [%d,%d) %q\n", c.Index, c.Start, c.End, c.Text)
	}
	// Output:
	// 0 [0,26) "Invoice total is 42 EUR.\n\n"
	// 1 [21,45) "UR.\n\nPay within 30 days."
}
