package celerybridge_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/shim/celerybridge"
)

// pythonPickle pickles a Python expression with /usr/bin/python3.
func pythonPickle(t *testing.T, expr string, protocol int) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	script := "import pickle, sys, collections\nclass C: pass\nsys.stdout.write(pickle.dumps(" + expr + ", protocol=" + string(rune('0'+protocol)) + ").hex())"
	out, err := exec.CommandContext(ctx, testenv.CeleryPython, "-c", script).Output()
	if err != nil {
		t.Fatalf("python pickle %s: %v", expr, err)
	}
	b, err := hex.DecodeString(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPickleToJSON(t *testing.T) {
	if _, err := exec.LookPath(testenv.CeleryPython); err != nil {
		t.Skip("no " + testenv.CeleryPython)
	}
	tests := []struct {
		name, expr, want string
		refused          bool
	}{
		{"empty list and dict", `[[], {}]`, `[[], {}]`, false},
		{"scalars", `[None, True, False, 0, -1, 255, 65536, -2**31, 1.5, 1.0, "s"]`,
			`[null, true, false, 0, -1, 255, 65536, -2147483648, 1.5, 1.0, "s"]`, false},
		{"big ints", `[2**53+1, 2**64+1, -(10**30)]`, `[9007199254740993, 18446744073709551617, -1000000000000000000000000000000]`, false},
		{"unicode and escapes", `{"ü": "日本語 🎉", "q": "a\"b\n"}`, `{"ü": "日本語 🎉", "q": "a\"b\n"}`, false},
		{"dict order kept", `{"z": 1, "a": 2, "m": {"y": (1, 2), "b": []}}`, `{"z": 1, "a": 2, "m": {"y": [1, 2], "b": []}}`, false},
		{"int keys", `{1: "a", 2: "b"}`, `{"1": "a", "2": "b"}`, false},
		{"celery failure", `{"exc_type": "ValueError", "exc_message": ["bad", 1], "exc_module": "builtins"}`,
			`{"exc_type": "ValueError", "exc_message": ["bad", 1], "exc_module": "builtins"}`, false},
		{"large list memo", `[{"k": "v"}] * 3`, `[{"k": "v"}, {"k": "v"}, {"k": "v"}]`, false},
		{"class instance refused", `C()`, ``, true},
		{"global refused", `len`, ``, true},
		{"ordered dict refused", `collections.OrderedDict(a=1)`, ``, true},
		{"bytes refused", `b"raw"`, ``, true},
		{"set refused", `{1, 2}`, ``, true},
	}
	for _, tc := range tests {
		for _, proto := range []int{2, 4, 5} {
			t.Run(tc.name+"/protocol"+string(rune('0'+proto)), func(t *testing.T) {
				got, err := celerybridge.PickleToJSON(pythonPickle(t, tc.expr, proto))
				if tc.refused {
					if !errors.Is(err, celerybridge.ErrPickleRefused) {
						t.Fatalf("err = %v, want ErrPickleRefused (got %s)", err, got)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != tc.want {
					t.Errorf("got  %s\nwant %s", got, tc.want)
				}
			})
		}
	}
}

func TestPickleToJSONMalformed(t *testing.T) {
	for _, in := range [][]byte{nil, {0x80}, {0x80, 0x05, 0x8a, 0x00, 0x2e}, []byte("garbage")} {
		if _, err := celerybridge.PickleToJSON(in); err == nil {
			t.Errorf("PickleToJSON(%x) succeeded", in)
		}
	}
}

func TestFieldNotesPickle(t *testing.T) {
	b, _ := hex.DecodeString("80059509000000000000005d94285d947d94652e")
	got, err := celerybridge.PickleToJSON(b)
	if err != nil || string(got) != `[[], {}]` {
		t.Fatalf("got %s, %v", got, err)
	}
}

// TestJSONToPickleRoundTrip pickles JSON and reads it back with the
// decoder: order, exact integers of any size and floats survive.
func TestJSONToPickleRoundTrip(t *testing.T) {
	tests := []string{
		`null`, `true`, `false`, `0`, `-1`, `2147483647`, `-2147483648`, `2147483648`, `-2147483649`,
		`123456789012345678901234567890`, `-123456789012345678901234567890`, `255`, `-256`, `128`,
		`1.5`, `1.0`, `-2.25e-10`, `""`, `"ünïcode ✓"`, `[]`, `{}`, `[1, "a", null]`,
		`{"z": 1, "a": [true, {"k": []}], "m": {"n": 1.5}}`,
		`{"successful_files": 3, "failed_files": 0, "results": {"a.txt": {"total": "42"}}, "errors": {}}`,
	}
	for _, in := range tests {
		t.Run(in, func(t *testing.T) {
			p, err := celerybridge.JSONToPickle(json.RawMessage(in))
			if err != nil {
				t.Fatal(err)
			}
			back, err := celerybridge.PickleToJSON(p)
			if err != nil {
				t.Fatal(err)
			}
			if string(back) != in {
				t.Errorf("round trip = %s, want %s", back, in)
			}
		})
	}
}

// TestJSONToPickleRefusesBadJSON refuses what is not one JSON value.
func TestJSONToPickleRefusesBadJSON(t *testing.T) {
	for _, in := range []string{``, `{`, `[1,]`, `1 2`, `{"a" 1}`} {
		if _, err := celerybridge.JSONToPickle(json.RawMessage(in)); err == nil {
			t.Errorf("celerybridge.JSONToPickle(%q) = nil error", in)
		}
	}
}
