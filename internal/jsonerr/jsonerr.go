// Package jsonerr describes JSON decoding errors without quoting the input,
// which may hold secrets (API keys, tokens).
package jsonerr

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Describe says what is wrong with the decoded text: where its syntax
// breaks, which field has the wrong type, or that it ended early.
func Describe(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q must be %s", typ.Field, typ.Type)
	case errors.Is(err, io.EOF):
		return "empty input"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of input"
	default:
		return err.Error()
	}
}
