//go:build !hatchet_external

package engine

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"reflect"
	"unsafe"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"github.com/hatchet-dev/hatchet/api/v1/server/middleware"
	"github.com/hatchet-dev/hatchet/api/v1/server/middleware/populator"
	"github.com/hatchet-dev/hatchet/api/v1/server/oas/gen"
	"github.com/hatchet-dev/hatchet/api/v1/server/run"
	"github.com/hatchet-dev/hatchet/pkg/config/loader"
	"github.com/hatchet-dev/hatchet/pkg/config/server"
)

// errNotLoopback is the API's answer to a client that is not on this host.
var errNotLoopback = echo.NewHTTPError(http.StatusForbidden,
	"the embedded Hatchet API answers loopback clients only; run an external engine (HATCHET_CLIENT_TOKEN) to share it")

// serveAPI runs Hatchet's REST API on ln until interrupt is closed, as
// Hatchet's own api.Start does, but listening on ln (a loopback listener)
// instead of on every interface, and answering loopback clients only.
func serveAPI(cf *loader.ConfigLoader, ln net.Listener, interrupt <-chan any) error {
	cleanupConfig, server, err := cf.CreateServerFromConfig(Version)
	if err != nil {
		return errors.Join(fmt.Errorf("load hatchet api config: %w", err), ln.Close())
	}
	cleanupAPI, err := run.NewAPIServer(server).RunWithMiddlewares(
		[]middleware.MiddlewareFunc{loopbackOnly}, listenOn(ln))
	if err != nil {
		return errors.Join(fmt.Errorf("start hatchet api: %w", err), ln.Close(), cleanupConfig())
	}
	<-interrupt
	return errors.Join(cleanupAPI(), cleanupConfig())
}

// listenOn is an API server extension that serves from ln. Hatchet's API
// server starts its Echo server on ":port", every interface, and has no
// setting to narrow it; Echo starts on a listener set beforehand instead. The
// extension registers no routes of its own: it repeats Hatchet's own
// specification (so its group's catch-all answers unknown paths as Hatchet's
// does) and hands the Echo server ln before Hatchet starts it.
func listenOn(ln net.Listener) run.APIServerExtensionOpt {
	return func(*server.ServerConfig) (*openapi3.T, func(*echo.Group, *populator.Populator) error, error) {
		spec, err := gen.GetSwagger()
		if err != nil {
			return nil, nil, fmt.Errorf("hatchet api specification: %w", err)
		}
		return spec, func(g *echo.Group, _ *populator.Populator) error {
			e, err := echoOf(g)
			if err != nil {
				return err
			}
			e.Listener = ln
			return nil
		}, nil
	}
}

// echoOf returns the Echo server a group belongs to. Echo keeps it in an
// unexported field and offers no accessor; a field that changes name or type
// in another Echo version is an error, never a guess.
func echoOf(g *echo.Group) (*echo.Echo, error) {
	f := reflect.ValueOf(g).Elem().FieldByName("echo")
	if !f.IsValid() || f.Type() != reflect.TypeFor[*echo.Echo]() {
		return nil, errors.New("cannot bind the embedded API to loopback: this echo.Group has no field echo of type *echo.Echo")
	}
	e := reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Interface().(*echo.Echo)
	if e == nil {
		return nil, errors.New("cannot bind the embedded API to loopback: echo.Group without its Echo")
	}
	return e, nil
}

// loopbackOnly refuses requests whose connection does not come from a
// loopback address. It reads the connection's own address, never a
// forwarding header a client could set. The API listens on loopback only, so
// this is a second guard, for a listener opened some other way.
func loopbackOnly(*middleware.RouteInfo) echo.HandlerFunc {
	return func(c echo.Context) error {
		host, _, err := net.SplitHostPort(c.Request().RemoteAddr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			return errNotLoopback
		}
		return nil
	}
}
