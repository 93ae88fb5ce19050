package sdkconn_test

import (
	"log/slog"
	"testing"

	"github.com/unstract/hatchet-worker/internal/config"
	"github.com/unstract/hatchet-worker/internal/engine"
	"github.com/unstract/hatchet-worker/internal/sdkconn"
	"github.com/unstract/hatchet-worker/internal/testenv"
)

// TestOf reaches the v0 client and the gRPC connection of a real SDK
// client (it connects lazily: no engine is needed), and the connection is
// the one the client was pointed at.
func TestOf(t *testing.T) {
	client, err := engine.NewClient(config.Hatchet{Token: testenv.FakeHatchetToken("127.0.0.1:1"), TLSStrategy: "none"}, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	v0, conn, err := sdkconn.Of(client)
	if err != nil {
		t.Fatalf("Of: %v (an SDK upgrade moved the client's fields)", err)
	}
	if v0.Dispatcher() == nil {
		t.Error("v0 client has no dispatcher")
	}
	if got := conn.Target(); got != "127.0.0.1:1" {
		t.Errorf("conn target = %q, want the token's address", got)
	}
	if err := conn.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
}

// TestOfRejectsNil reports a missing client as a layout error, not a panic.
func TestOfRejectsNil(t *testing.T) {
	if _, _, err := sdkconn.Of(nil); err == nil {
		t.Fatal("Of(nil) = nil error")
	}
}
