//go:build integration

package cli_test

import (
	"os"
	"testing"

	"github.com/unstract/hatchet-worker/internal/testenv/hatchettest"
)

// TestMain drops the shared test engine's database after the tests.
func TestMain(m *testing.M) { os.Exit(hatchettest.Main(m)) }
