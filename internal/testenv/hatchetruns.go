package testenv

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/hatchet-dev/hatchet/pkg/config/loader/loaderutils"
)

// HatchetRun is the part of a run the Hatchet dashboard lists that tests
// check.
type HatchetRun struct {
	Metadata map[string]string `json:"additionalMetadata"`
	Status   string            `json:"status"`
}

// HatchetRuns lists the last hour's runs of token's tenant whose metadata
// matches filter ("key:value"), from the engine's REST API at apiURL, as
// the dashboard does (GET /api/v1/stable/tenants/{tenant}/workflow-runs).
func HatchetRuns(t testing.TB, apiURL, token, filter string) []HatchetRun {
	t.Helper()
	tenant, err := loaderutils.GetConfFromJWT(token)
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{"since": {time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}, "only_tasks": {"false"},
		"additional_metadata": {filter}, "limit": {"10000"}}
	req, _ := http.NewRequest(http.MethodGet, apiURL+"/api/v1/stable/tenants/"+tenant.TenantId+"/workflow-runs?"+q.Encode(), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Rows []HatchetRun `json:"rows"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &body) != nil {
		t.Fatalf("list runs (%s): %d %s", filter, resp.StatusCode, raw)
	}
	return body.Rows
}
