package testenv

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// send makes one request of the stand-in with the given key and organisation.
func send(t *testing.T, p *PlatformAPI, method, path, key, org string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, p.URL+"/"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", key)
	}
	if org != "" {
		req.Header.Set("X-Organization-ID", org)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

func TestPlatformAPIRefusesWhatThePlatformRefuses(t *testing.T) {
	p := StartPlatformAPI(t)
	ex := p.CreateExecution("org_a", "wf-1")
	p.CreateExecution("org_b", "wf-2")
	bearer := "Bearer " + p.Key
	upd := "v1/workflow-execution/" + ex + "/update_status/"
	cases := []struct {
		name, method, path, key, org string
		body                         any
		want                         int
		wantText                     string
	}{
		{"no key", "GET", "v1/workflow-execution/" + ex + "/", "", "org_a", nil, 401, "Authorization header required"},
		{"not bearer", "GET", "v1/workflow-execution/" + ex + "/", "Token " + p.Key, "org_a", nil, 401, "Bearer token required"},
		{"wrong key", "GET", "v1/workflow-execution/" + ex + "/", "Bearer nope", "org_a", nil, 401, "Invalid internal service API key"},
		{"wrong key on an unknown path", "GET", "v1/nothing/", "Bearer nope", "", nil, 401, "Invalid internal service API key"},
		{"unknown path", "GET", "v1/nothing/", bearer, "", nil, 404, ""},
		{"no trailing slash", "POST", "v1/workflow-execution/" + ex + "/update_status", bearer, "", map[string]any{"status": "EXECUTING"}, 404, ""},
		{"wrong method", "GET", upd, bearer, "", nil, 405, ""},
		{"unknown execution", "GET", "v1/workflow-execution/8b0e3f3c-6c1e-4a8e-9a57-6b4a1e0a0b01/", bearer, "", nil, 404, "not found"},
		{"another organisation's execution", "GET", "v1/workflow-execution/" + ex + "/", bearer, "org_b", nil, 500, "Failed to retrieve"},
		{"unknown organisation", "POST", "v1/file-execution/", bearer, "org_x", map[string]any{"execution_id": ex}, 404, "not found"},
		{"status missing", "POST", upd, bearer, "org_a", map[string]any{"attempts": 1}, 400, "This field is required"},
		{"status not a choice", "POST", upd, bearer, "org_a", map[string]any{"status": "DONE"}, 400, "not a valid choice"},
		{"aggregates without total", "POST", upd, bearer, "org_a", map[string]any{"status": "COMPLETED", "failed_files": 1}, 400, "total_files is required"},
		{"aggregates over total", "POST", upd, bearer, "org_a", map[string]any{"status": "COMPLETED", "total_files": 2, "successful_files": 2, "failed_files": 1}, 400, "cannot exceed"},
		{"negative attempts", "POST", upd, bearer, "org_a", map[string]any{"status": "EXECUTING", "attempts": -1}, 400, "greater than or equal to 0"},
		{"update of an unknown execution", "POST", "v1/workflow-execution/8b0e3f3c-6c1e-4a8e-9a57-6b4a1e0a0b01/update_status/", bearer, "", map[string]any{"status": "EXECUTING"}, 500, "Failed to update"},
		{"file batch without files", "POST", "v1/workflow-manager/file-batch/", bearer, "org_a", map[string]any{"workflow_execution_id": ex, "files": []any{}}, 400, "may not be empty"},
		{"file batch id not a uuid", "POST", "v1/workflow-manager/file-batch/", bearer, "org_a", map[string]any{"workflow_execution_id": "exec-1", "files": []any{map[string]any{}}}, 400, "valid UUID"},
		{"increment without type", "POST", "v1/workflow-manager/increment-files/", bearer, "org_a", map[string]any{"workflow_id": "wf-1", "execution_id": ex}, 400, "required"},
		{"increment of another kind", "POST", "v1/workflow-manager/increment-files/", bearer, "org_a", map[string]any{"workflow_id": "wf-1", "execution_id": ex, "increment_type": "skipped"}, 400, "Invalid increment_type"},
		{"file execution without execution", "POST", "v1/file-execution/", bearer, "org_a", map[string]any{}, 400, "execution_id is required"},
		{"unknown file execution", "POST", "v1/file-execution/8b0e3f3c-6c1e-4a8e-9a57-6b4a1e0a0b01/status/", bearer, "org_a", map[string]any{"status": "EXECUTING"}, 404, "No file execution"},
		{"pipeline without status", "PUT", "v1/pipeline/8b0e3f3c-6c1e-4a8e-9a57-6b4a1e0a0b01/", bearer, "org_a", map[string]any{"is_end": true}, 400, "Status is required"},
		{"unknown pipeline", "PUT", "v1/pipeline/8b0e3f3c-6c1e-4a8e-9a57-6b4a1e0a0b01/", bearer, "org_a", map[string]any{"status": "SUCCESS"}, 404, "not found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := send(t, p, c.method, c.path, c.key, c.org, c.body)
			if code != c.want {
				t.Fatalf("status %d, want %d (%v)", code, c.want, body)
			}
			if text, _ := json.Marshal(body); !strings.Contains(string(text), c.wantText) {
				t.Errorf("answer %s does not say %q", text, c.wantText)
			}
		})
	}
	if e, _ := p.Execution(ex); e.Status != "PENDING" || e.Attempts != 0 || len(e.Files) != 0 {
		t.Errorf("refused calls changed the execution: %+v", e)
	}
	calls := p.Calls()
	if len(calls) != len(cases) {
		t.Fatalf("%d calls recorded, want %d", len(calls), len(cases))
	}
	for i, c := range cases {
		if calls[i].Status != c.want || calls[i].Method != c.method {
			t.Errorf("call %d recorded as %s %d, want %s %d", i, calls[i].Method, calls[i].Status, c.method, c.want)
		}
	}
}

func TestPlatformAPIFinalStatusRule(t *testing.T) {
	cases := []struct {
		name    string
		guarded bool
		from    string
		to      string
		want    string
		skipped bool
	}{
		{"guarded keeps COMPLETED", true, "COMPLETED", "ERROR", "COMPLETED", true},
		{"guarded keeps STOPPED", true, "STOPPED", "EXECUTING", "STOPPED", true},
		{"guarded takes the same final status", true, "COMPLETED", "COMPLETED", "COMPLETED", false},
		{"guarded corrects ERROR", true, "ERROR", "COMPLETED", "COMPLETED", false},
		{"celery takes anything", false, "COMPLETED", "EXECUTING", "EXECUTING", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := StartPlatformAPI(t)
			var opts []ExecutionOption
			if c.guarded {
				opts = append(opts, Guarded())
			}
			ex := p.CreateExecution("org_a", "wf-1", opts...)
			path := "v1/workflow-execution/" + ex + "/update_status/"
			for _, s := range []string{c.from, c.to} {
				if code, body := send(t, p, "POST", path, "Bearer "+p.Key, "org_a", map[string]any{"status": s}); code != 200 {
					t.Fatalf("update to %s: %d %v", s, code, body)
				}
			}
			e, _ := p.Execution(ex)
			calls := p.Calls()
			if e.Status != c.want || calls[1].Skipped != c.skipped {
				t.Errorf("status %s skipped %v, want %s skipped %v", e.Status, calls[1].Skipped, c.want, c.skipped)
			}
		})
	}
}

func TestPlatformAPIFileExecutions(t *testing.T) {
	p := StartPlatformAPI(t)
	ex := p.CreateExecution("org_a", "wf-1")
	pl := p.CreatePipeline("org_a")
	bearer := "Bearer " + p.Key
	batch := map[string]any{"workflow_execution_id": ex, "files": []any{map[string]any{"file_name": "a.txt", "file_path": "/d/a.txt", "file_hash": "h1"}}}
	if code, body := send(t, p, "POST", "v1/workflow-manager/file-batch/", bearer, "org_a", batch); code != 201 {
		t.Fatalf("file batch: %d %v", code, body)
	}
	get := map[string]any{"execution_id": ex, "workflow_id": "wf-1", "file_hash": map[string]any{"file_name": "a.txt", "file_path": "/d/a.txt", "file_hash": "h1"}}
	code, fe := send(t, p, "POST", "v1/file-execution/", bearer, "org_a", get)
	if code != 201 || fe["status"] != "PENDING" {
		t.Fatalf("get-or-create: %d %v", code, fe)
	}
	id := fe["id"].(string)
	if code, body := send(t, p, "POST", "v1/file-execution/"+id+"/status/", bearer, "org_a", map[string]any{"status": "ERROR", "error_message": "boom", "execution_time": 1.5}); code != 200 {
		t.Fatalf("file status: %d %v", code, body)
	}
	if _, again := send(t, p, "POST", "v1/file-execution/", bearer, "org_a", get); again["id"] != id || again["status"] != "ERROR" {
		t.Errorf("get-or-create did not find the file execution: %v", again)
	}
	inc := map[string]any{"workflow_id": "wf-1", "execution_id": ex, "increment_type": "failed"}
	if code, _ := send(t, p, "POST", "v1/workflow-manager/increment-files/", bearer, "org_a", inc); code != 200 {
		t.Fatalf("increment: %d", code)
	}
	if code, _ := send(t, p, "PUT", "v1/pipeline/"+pl+"/", bearer, "org_a", map[string]any{"status": "SUCCESS", "is_end": true}); code != 200 {
		t.Fatalf("pipeline: %d", code)
	}
	e, _ := p.Execution(ex)
	if len(e.Files) != 1 || e.Files[0].Status != "ERROR" || e.Files[0].Error != "boom" || e.Files[0].ExecutionTime == nil || e.FailedIncrements != 1 {
		t.Errorf("execution %+v", e)
	}
	if got, _ := p.Pipeline(pl); got.LastRunStatus != "SUCCESS" || got.RunCount != 1 {
		t.Errorf("pipeline %+v", got)
	}
	// A second batch creates the files again, as the platform does; its
	// get-or-create then fails with MultipleObjectsReturned.
	if code, _ := send(t, p, "POST", "v1/workflow-manager/file-batch/", bearer, "org_a", batch); code != 201 {
		t.Fatalf("second file batch: %d", code)
	}
	if code, _ := send(t, p, "POST", "v1/file-execution/", bearer, "org_a", get); code != 500 {
		t.Errorf("get-or-create over two file executions answered %d, want 500", code)
	}
}
