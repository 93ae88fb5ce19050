package connector_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/unstract/hatchet-worker/helpers/connector"
)

// A workflow step decodes the settings the platform sent, validates them and
// stores the verdict; invalid settings are the one error not worth retrying.
func Example() {
	input := fmt.Sprintf(`{"type": "filesystem", "path": %q, "timeout_ms": 2000}`, os.TempDir())
	var s connector.Settings
	if err := json.Unmarshal([]byte(input), &s); err != nil {
		fmt.Println("bad input:", err)
		return
	}
	res, err := connector.Validate(context.Background(), s)
	switch {
	case errors.Is(err, connector.ErrInvalidSettings):
		fmt.Println("do not retry:", err)
	case err != nil:
		fmt.Println("no verdict:", err)
	default:
		fmt.Println("ok:", res.OK, "error:", res.Error)
	}
	// Output: ok: true error:
}
