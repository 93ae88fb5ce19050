// Package chunk splits extracted document text into overlapping windows for
// embedding and LLM prompts, replacing the platform's `chunk-size` and
// `chunk-overlap` settings.
//
// # Model
//
// Sizes and offsets are measured in characters, which here means Unicode code
// points (runes), never bytes: a chunk of size 100 holds at most 100 runes,
// whatever their encoded width. A chunk never splits a code point; combining
// marks and multi-rune emoji sequences may still be separated from their base
// rune when no better boundary exists in the window.
//
// A [Splitter] walks the text left to right. Each window is at most size runes
// long. When the window does not reach the end of the text, the splitter looks
// backwards from the window's end for a boundary, preferring in order a
// paragraph break ("\n\n"), a line break, then any other white space, and
// breaks just after it. A boundary is taken only when it lies in the second
// half of the window and past the overlap, so that chunks stay reasonably full
// and the walk always progresses; otherwise the window is cut hard at the rune
// limit.
//
// The next chunk starts exactly overlap runes before the previous one ended, so
// the text is reconstructed by concatenating the first chunk with every later
// chunk minus its first overlap runes. Offsets ([Chunk.Start], [Chunk.End]) are
// rune indexes into the text. Invalid UTF-8 bytes are decoded as U+FFFD before
// splitting, so every chunk is valid UTF-8.
//
// Splitting is deterministic: the same text and settings always yield the same
// chunks.
//
// In the platform a chunk size of 0 means "do not chunk"; [New] rejects it
// unless the [WholeWhenZero] option is given, in which case the whole text
// becomes a single chunk.
package chunk
