package extract

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// extractCSV returns one line per record with cells joined by a tab; new
// lines inside a cell become spaces. Rows may have differing cell counts.
func extractCSV(data []byte, comma rune) (string, error) {
	r := csv.NewReader(bytes.NewReader([]byte(normalizeText(data))))
	r.Comma = comma
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	r.ReuseRecord = true
	var b strings.Builder
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return b.String(), nil
		}
		if err != nil {
			return "", fmt.Errorf("%w: csv: %w", ErrCorrupt, err)
		}
		for i, cell := range rec {
			if i > 0 {
				b.WriteByte('\t')
			}
			b.WriteString(strings.ReplaceAll(cell, "\n", " "))
		}
		b.WriteByte('\n')
	}
}
