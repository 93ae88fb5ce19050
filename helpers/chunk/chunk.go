package chunk

// Chunk is one window of the split text.
type Chunk struct {
	// Index is the chunk's position in the sequence, starting at 0.
	Index int `json:"index"`
	// Text is the chunk's content.
	Text string `json:"text"`
	// Start is the rune offset of the chunk's first rune in the text.
	Start int `json:"start"`
	// End is the rune offset just past the chunk's last rune.
	End int `json:"end"`
}

// Len returns the chunk's length in runes.
func (c Chunk) Len() int { return c.End - c.Start }
