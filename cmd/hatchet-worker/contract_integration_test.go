//go:build integration

package main

import (
	"net/http"
	"sync"
	"testing"

	"github.com/unstract/hatchet-worker/shim/api"
	"github.com/unstract/hatchet-worker/shim/api/apitest"
)

// contract is the shim's OpenAPI document, loaded once for every test.
var contract = sync.OnceValues(func() (*apitest.Contract, error) { return apitest.New(api.Document()) })

// apiClient returns an HTTP client whose exchanges with the service are
// checked against the shim's OpenAPI document, failing t for each one that
// breaks it.
func apiClient(t testing.TB) *http.Client {
	t.Helper()
	c, err := contract()
	if err != nil {
		t.Fatal(err)
	}
	return c.Client(t)
}
