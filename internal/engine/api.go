package engine

import (
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/hatchet-dev/hatchet/api/v1/server/middleware"
	"github.com/hatchet-dev/hatchet/api/v1/server/run"
	"github.com/hatchet-dev/hatchet/pkg/config/loader"
)

// errNotLoopback is the API's answer to a client that is not on this host.
var errNotLoopback = echo.NewHTTPError(http.StatusForbidden,
	"the embedded Hatchet API answers loopback clients only; run an external engine (HATCHET_CLIENT_TOKEN) to share it")

// serveAPI runs Hatchet's REST API until interrupt is closed, as Hatchet's
// own api.Start does, but answering loopback clients only: Hatchet's API
// server listens on every interface and has no setting to narrow it.
func serveAPI(cf *loader.ConfigLoader, interrupt <-chan any) error {
	cleanupConfig, server, err := cf.CreateServerFromConfig(Version)
	if err != nil {
		return fmt.Errorf("load hatchet api config: %w", err)
	}
	cleanupAPI, err := run.NewAPIServer(server).RunWithMiddlewares([]middleware.MiddlewareFunc{loopbackOnly})
	if err != nil {
		return errors.Join(fmt.Errorf("start hatchet api: %w", err), cleanupConfig())
	}
	<-interrupt
	return errors.Join(cleanupAPI(), cleanupConfig())
}

// loopbackOnly refuses requests whose connection does not come from a
// loopback address. It reads the connection's own address, never a
// forwarding header a client could set.
func loopbackOnly(*middleware.RouteInfo) echo.HandlerFunc {
	return func(c echo.Context) error {
		host, _, err := net.SplitHostPort(c.Request().RemoteAddr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			return errNotLoopback
		}
		return nil
	}
}
