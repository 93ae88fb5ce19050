package celerybridge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
)

// ErrPickleRefused means a pickle holds something other than plain data
// (a class, a global, bytes, a set, …) and was not decoded.
var ErrPickleRefused = errors.New("celerybridge: pickle holds non-plain data")

// PickleToJSON decodes a Python pickle (any protocol) of plain data — dict,
// list, tuple, str, int of any size, float, bool, None — into JSON with dict
// order kept and integers exact. Anything else is refused with ErrPickleRefused.
func PickleToJSON(data []byte) (json.RawMessage, error) {
	v, err := unpickle(data)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := writeJSON(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// unpickle runs the decoder with every class lookup refused; a panic inside
// the decoder on malformed input becomes an error.
func unpickle(data []byte) (v any, err error) {
	defer func() {
		if p := recover(); p != nil {
			v, err = nil, fmt.Errorf("unpickle: malformed pickle: %v", p)
		}
	}()
	u := pickle.NewUnpickler(bytes.NewReader(data))
	u.FindClass = func(module, name string) (any, error) {
		return nil, fmt.Errorf("%w: global %s.%s", ErrPickleRefused, module, name)
	}
	v, err = u.Load()
	if err != nil {
		return nil, fmt.Errorf("unpickle: %w", err)
	}
	return v, nil
}

func writeJSON(buf *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case nil:
		buf.WriteString("null")
	case bool:
		buf.WriteString(strconv.FormatBool(x))
	case int:
		buf.WriteString(strconv.Itoa(x))
	case *big.Int:
		buf.WriteString(x.String())
	case float64:
		return writeFloat(buf, x)
	case string:
		return writeString(buf, x)
	case *types.List:
		return writeArray(buf, *x)
	case *types.Tuple:
		return writeArray(buf, *x)
	case *types.Dict:
		return writeObject(buf, *x)
	default:
		return fmt.Errorf("%w: %T", ErrPickleRefused, v)
	}
	return nil
}

func writeFloat(buf *bytes.Buffer, f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("%w: non-finite float %v", ErrPickleRefused, f)
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if f == math.Trunc(f) && math.Abs(f) < 1e16 {
		s = strconv.FormatFloat(f, 'f', 1, 64) // Python's json writes 1.0, not 1
	}
	buf.WriteString(s)
	return nil
}

func writeString(buf *bytes.Buffer, s string) error {
	raw, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode string: %w", err)
	}
	buf.Write(raw)
	return nil
}

func writeArray(buf *bytes.Buffer, items []any) error {
	buf.WriteByte('[')
	for i, it := range items {
		if i > 0 {
			buf.WriteString(", ")
		}
		if err := writeJSON(buf, it); err != nil {
			return err
		}
	}
	buf.WriteByte(']')
	return nil
}

func writeObject(buf *bytes.Buffer, d types.Dict) error {
	buf.WriteByte('{')
	for i, e := range d {
		if i > 0 {
			buf.WriteString(", ")
		}
		key, err := jsonKey(e.Key)
		if err != nil {
			return err
		}
		if err := writeString(buf, key); err != nil {
			return err
		}
		buf.WriteString(": ")
		if err := writeJSON(buf, e.Value); err != nil {
			return err
		}
	}
	buf.WriteByte('}')
	return nil
}

// jsonKey turns a dict key into a JSON object key as Python's json module does.
func jsonKey(k any) (string, error) {
	switch x := k.(type) {
	case string:
		return x, nil
	case nil:
		return "null", nil
	case bool, int, *big.Int:
		return fmt.Sprint(x), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	}
	return "", fmt.Errorf("%w: dict key of type %T", ErrPickleRefused, k)
}
