package workflows_test

import (
	"encoding/json"
	"log/slog"
	"reflect"
	"testing"

	"github.com/unstract/hatchet-worker/shim/route"
	"github.com/unstract/hatchet-worker/workflows"
)

// TestRoutes checks the routes the workflows declare: which the shim
// exposes, which have a legacy task, and that they form a valid catalog.
func TestRoutes(t *testing.T) {
	defs := workflows.Registry(workflows.Deps{Log: slog.Default()})
	routes := workflows.Routes(defs)
	legacy, results := map[string]string{}, map[string]string{}
	for _, r := range routes {
		results[r.Name] = r.ResultTask
		wantHatchet := r.Name
		if r.Name == workflows.APIDeploymentExecutionName {
			wantHatchet = workflows.WorkflowExecutionName
		}
		if r.Hatchet != wantHatchet {
			t.Errorf("route %s runs Hatchet workflow %s, want %s", r.Name, r.Hatchet, wantHatchet)
		}
		legacy[r.Name] = ""
		if r.Legacy != nil {
			legacy[r.Name] = r.Legacy.Queue + "/" + r.Legacy.Task
		}
	}
	want := map[string]string{
		workflows.DocumentProcessingName:     workflows.QueueFileProcessing + "/" + workflows.TaskProcessFileBatch,
		workflows.WorkflowExecutionName:      workflows.QueueCelery + "/" + workflows.TaskAsyncExecuteBin,
		workflows.APIDeploymentExecutionName: workflows.QueueAPIDeployments + "/" + workflows.TaskAsyncExecuteBin,
		workflows.UserOnboardingName:         "",
		workflows.ConnectorValidationName:    "",
	}
	if !reflect.DeepEqual(legacy, want) {
		t.Errorf("routes (name: queue/task) = %v, want %v", legacy, want)
	}
	known := map[string]string{}
	for _, n := range workflows.RouteNames() {
		known[n] = legacy[n]
	}
	if !reflect.DeepEqual(known, want) {
		t.Errorf("RouteNames() = %v, want the names of %v", workflows.RouteNames(), want)
	}
	wantResults := map[string]string{workflows.DocumentProcessingName: "process-llm", workflows.WorkflowExecutionName: "process-files",
		workflows.APIDeploymentExecutionName: "process-files", workflows.UserOnboardingName: "notify", workflows.ConnectorValidationName: ""}
	if !reflect.DeepEqual(results, wantResults) {
		t.Errorf("result tasks = %v, want %v", results, wantResults)
	}
	names := make([]string, len(defs))
	for i, d := range defs {
		names[i] = d.Name
	}
	if _, err := route.NewCatalog(routes, names); err != nil {
		t.Errorf("catalog: %v", err)
	}
}

// TestDocumentLegacyArgs checks the Celery arguments a document request maps
// to: process_file_batch({files: [[name, FileHash]], file_data: {...}}).
func TestDocumentLegacyArgs(t *testing.T) {
	var rt route.Route
	for _, r := range workflows.Routes(workflows.Registry(workflows.Deps{Log: slog.Default()})) {
		if r.Name == workflows.DocumentProcessingName {
			rt = r
		}
	}
	e := route.Call{ExecutionID: "exec-1", OrganizationID: "org_acme"}
	tests := []struct {
		name, input, want string
	}{
		{"defaults", `{"document_path": "/data/in/a.pdf"}`,
			`[{"file_data":{"execution_id":"exec-1","organization_id":"org_acme","pipeline_id":null,"scheduled":false,"use_file_history":true,"workflow_id":""},"files":[["a.pdf",{"file_name":"a.pdf","file_path":"/data/in/a.pdf"}]]}]`},
		{"all fields", `{"document_path": "b.txt", "workflow_id": "wf", "pipeline_id": "p", "use_file_history": false}`,
			`[{"file_data":{"execution_id":"exec-1","organization_id":"org_acme","pipeline_id":"p","scheduled":false,"use_file_history":false,"workflow_id":"wf"},"files":[["b.txt",{"file_name":"b.txt","file_path":"b.txt"}]]}]`},
		{"no path", `{"outputs": []}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args, kwargs, err := rt.Legacy.Args(e, json.RawMessage(tt.input))
			if tt.want == "" {
				if err == nil {
					t.Fatalf("args %v accepted without document_path", args)
				}
				return
			}
			got, _ := json.Marshal(args)
			if err != nil || string(got) != tt.want || len(kwargs) != 0 {
				t.Errorf("Args = %s %v %v, want %s", got, kwargs, err, tt.want)
			}
			if meta := rt.Metadata(json.RawMessage(tt.input)); meta["document_path"] == "" {
				t.Errorf("metadata %v lacks document_path", meta)
			}
		})
	}
}
