// Package jsonnum finds JSON numbers that cannot travel through a Hatchet
// run's input unchanged. Hatchet's Go SDK decodes run input into float64, so
// a whole number beyond ±2^53 reaches a task with other digits (and Python
// then reads it as a different int). Callers refuse such input with a clear
// error instead of passing corrupted numbers on.
package jsonnum

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
)

// MaxExact is the largest magnitude up to which every whole number has an
// exact float64: 2^53.
const MaxExact = 1 << 53

// InexactError names the first whole number in a document beyond ±MaxExact.
type InexactError struct {
	// Path locates the number, e.g. "$.args[1].id".
	Path string
	// Number is the number as written.
	Number string
}

func (e *InexactError) Error() string {
	return fmt.Sprintf("%s = %s is a whole number beyond ±2^53, which Hatchet run input cannot carry exactly; send it as a string",
		e.Path, e.Number)
}

// CheckExact returns an *InexactError for the first whole number in raw
// (object keys in sorted order) whose magnitude exceeds MaxExact, nil when
// there is none, and a decoding error when raw is not JSON.
func CheckExact(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("decode json: %w", err)
	}
	return CheckValue(v)
}

// CheckValue is CheckExact for a document already decoded with
// json.Decoder.UseNumber: numbers as json.Number inside []any and
// map[string]any.
func CheckValue(v any) error { return walk("$", v) }

func walk(path string, v any) error {
	switch v := v.(type) {
	case json.Number:
		if !exact(v.String()) {
			return &InexactError{Path: path, Number: v.String()}
		}
	case []any:
		for i, e := range v {
			if err := walk(path+"["+strconv.Itoa(i)+"]", e); err != nil {
				return err
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if err := walk(path+"."+k, v[k]); err != nil {
				return err
			}
		}
	}
	return nil
}

var maxExact = big.NewInt(MaxExact)

// exact reports whether the JSON number n survives a float64 round trip as
// the same value: any fraction, or a whole number within ±2^53.
func exact(n string) bool {
	if !strings.ContainsAny(n, ".eE") {
		i, ok := new(big.Int).SetString(n, 10)
		return ok && i.CmpAbs(maxExact) <= 0
	}
	f, err := strconv.ParseFloat(n, 64)
	if err != nil {
		return false // beyond float64's range
	}
	return f != math.Trunc(f) || math.Abs(f) <= MaxExact
}
