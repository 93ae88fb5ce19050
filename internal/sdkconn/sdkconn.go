//lint:file-ignore SA1019 the worker the service runs itself is built on the SDK's v0 client (pkg/client), which hatchet.Client wraps.

// Package sdkconn reaches what the Hatchet SDK's client (sdks/go v0.105.0)
// keeps to itself: its v0 client and its gRPC connection.
package sdkconn

import (
	"errors"
	"fmt"
	"reflect"
	"unsafe"

	"google.golang.org/grpc"

	v0client "github.com/hatchet-dev/hatchet/pkg/client" //nolint:staticcheck // see the file comment
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
)

// ErrLayout reports a Hatchet SDK whose client no longer has the shape
// Of reads: an SDK upgrade that needs this file revisited.
var ErrLayout = errors.New("hatchet SDK client layout changed (sdks/go v0.105.0 expected)")

// Of returns what hatchet.Client (v0.105.0) keeps to itself: its
// v0 client, on which the service builds the worker it runs under its own
// context (pkg/worker's Run returns errors where the SDK's Start panics),
// and that client's gRPC connection, which the SDK never closes and whose
// reconnect backoff (up to two minutes) only ResetConnectBackoff cuts
// short. TestOf fails when an SDK upgrade moves either.
func Of(c *hatchet.Client) (v0client.Client, *grpc.ClientConn, error) {
	legacy, ok := field(reflect.ValueOf(c), "legacyClient").(v0client.Client)
	if !ok || legacy == nil {
		return nil, nil, fmt.Errorf("%w: no legacyClient", ErrLayout)
	}
	conn, ok := field(reflect.ValueOf(legacy), "conn").(*grpc.ClientConn)
	if !ok || conn == nil {
		return nil, nil, fmt.Errorf("%w: no gRPC conn in %T", ErrLayout, legacy)
	}
	return legacy, conn, nil
}

// field reads the unexported field name of the struct ptr points to, or
// returns nil when ptr is not such a pointer or the field does not exist.
func field(ptr reflect.Value, name string) any {
	if ptr.Kind() != reflect.Pointer || ptr.IsNil() || ptr.Elem().Kind() != reflect.Struct {
		return nil
	}
	f := ptr.Elem().FieldByName(name)
	if !f.IsValid() {
		return nil
	}
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Interface()
}
