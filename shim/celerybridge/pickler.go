package celerybridge

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strings"
)

// Pickle opcodes of protocol 2 that plain data needs.
const (
	opProto      = 0x80
	opStop       = '.'
	opNone       = 'N'
	opTrue       = 0x88
	opFalse      = 0x89
	opBinInt     = 'J'
	opLong1      = 0x8a
	opBinFloat   = 'G'
	opBinUnicode = 'X'
	opEmptyList  = ']'
	opEmptyDict  = '}'
	opMark       = '('
	opAppends    = 'e'
	opSetItems   = 'u'
)

// JSONToPickle encodes JSON as a protocol-2 Python pickle of plain data, as
// Celery's database backend stores a JSON-serialised result: objects become
// dicts in their order, integers of any size ints, other numbers floats.
// PickleToJSON reads it back unchanged.
func JSONToPickle(raw json.RawMessage) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var buf bytes.Buffer
	buf.Write([]byte{opProto, 2})
	if err := pickleValue(&buf, dec); err != nil {
		return nil, fmt.Errorf("pickle: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("pickle: trailing data after the JSON value")
	}
	buf.WriteByte(opStop)
	return buf.Bytes(), nil
}

// pickleValue writes the next JSON value of dec.
func pickleValue(buf *bytes.Buffer, dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch x := tok.(type) {
	case nil:
		buf.WriteByte(opNone)
	case bool:
		buf.WriteByte(map[bool]byte{true: opTrue, false: opFalse}[x])
	case json.Number:
		return pickleNumber(buf, x)
	case string:
		pickleString(buf, x)
	case json.Delim:
		return pickleContainer(buf, dec, x)
	}
	return nil
}

// pickleContainer writes the array or object whose opening delim was read.
func pickleContainer(buf *bytes.Buffer, dec *json.Decoder, open json.Delim) error {
	empty, fill := byte(opEmptyList), byte(opAppends)
	if open == '{' {
		empty, fill = opEmptyDict, opSetItems
	}
	buf.WriteByte(empty)
	if !dec.More() {
		_, err := dec.Token()
		return err
	}
	buf.WriteByte(opMark)
	for dec.More() {
		if err := pickleValue(buf, dec); err != nil { // the item, or the key
			return err
		}
		if open == '{' {
			if err := pickleValue(buf, dec); err != nil {
				return err
			}
		}
	}
	buf.WriteByte(fill)
	_, err := dec.Token()
	return err
}

func pickleString(buf *bytes.Buffer, s string) {
	buf.WriteByte(opBinUnicode)
	buf.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(s))))
	buf.WriteString(s)
}

// pickleNumber writes an integer literal as an int (BININT or LONG1) and
// any other number as a float.
func pickleNumber(buf *bytes.Buffer, n json.Number) error {
	if !strings.ContainsAny(string(n), ".eE") {
		i, ok := new(big.Int).SetString(string(n), 10)
		if !ok {
			return fmt.Errorf("number %s", n)
		}
		if i.IsInt64() && i.Int64() >= math.MinInt32 && i.Int64() <= math.MaxInt32 {
			buf.WriteByte(opBinInt)
			buf.Write(binary.LittleEndian.AppendUint32(nil, uint32(int32(i.Int64()))))
			return nil
		}
		b := longBytes(i)
		buf.Write([]byte{opLong1, byte(len(b))})
		buf.Write(b)
		return nil
	}
	f, err := n.Float64()
	if err != nil {
		return fmt.Errorf("number %s: %w", n, err)
	}
	buf.WriteByte(opBinFloat)
	buf.Write(binary.BigEndian.AppendUint64(nil, math.Float64bits(f)))
	return nil
}

// longBytes is i in little-endian two's complement, as short as its sign
// allows (pickle's encode_long); LONG1 takes at most 255 bytes.
func longBytes(i *big.Int) []byte {
	n := i.BitLen()/8 + 1
	mod := new(big.Int).Lsh(big.NewInt(1), uint(8*n))
	v := new(big.Int).Set(i)
	if v.Sign() < 0 {
		v.Add(v, mod)
	}
	be := v.FillBytes(make([]byte, n))
	le := make([]byte, n)
	for j := range be {
		le[n-1-j] = be[j]
	}
	return le
}
