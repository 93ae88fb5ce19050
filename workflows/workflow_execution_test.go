package workflows_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/unstract/hatchet-worker/helpers/llm"
	"github.com/unstract/hatchet-worker/internal/testenv"
	"github.com/unstract/hatchet-worker/shim/route"
	"github.com/unstract/hatchet-worker/workflows"
)

// TestPlanBatches checks how files are named, ordered and cut into batches.
func TestPlanBatches(t *testing.T) {
	files := func(paths ...string) map[string]workflows.FileHash {
		m := map[string]workflows.FileHash{}
		for i, p := range paths {
			m[fmt.Sprintf("h%d", i)] = workflows.FileHash{FilePath: p}
		}
		return m
	}
	tests := []struct {
		name  string
		files map[string]workflows.FileHash
		size  int
		want  string // batches of names, "|" between batches
		err   bool
	}{
		{"one batch", files("/d/b.txt", "/d/a.txt"), 0, "a.txt,b.txt", false},
		{"exact batches", files("/d/1", "/d/2", "/d/3", "/d/4"), 2, "1,2|3,4", false},
		{"last batch short", files("/d/1", "/d/2", "/d/3"), 2, "1,2|3", false},
		{"batch of one", files("/d/x", "/d/y"), 1, "x|y", false},
		{"file_name wins over the path", map[string]workflows.FileHash{"h": {FilePath: "/d/x.tmp", FileName: "invoice.pdf"}}, 5, "invoice.pdf", false},
		{"no path", map[string]workflows.FileHash{"h": {FileName: "a.pdf"}}, 5, "", true},
		{"duplicate names", files("/d/a.txt", "/e/a.txt"), 5, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := workflows.PlanBatches(tt.files, tt.size)
			if tt.err {
				if !errors.Is(err, workflows.ErrBadExecution) {
					t.Fatalf("PlanBatches = %+v, %v; want ErrBadExecution", plan, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var batches []string
			for _, b := range plan.Batches {
				var names []string
				for _, f := range b {
					names = append(names, f.Name)
				}
				batches = append(batches, strings.Join(names, ","))
			}
			if got := strings.Join(batches, "|"); got != tt.want || plan.Files != len(tt.files) {
				t.Errorf("batches = %q (%d files), want %q (%d)", got, plan.Files, tt.want, len(tt.files))
			}
		})
	}
}

func executionRoute(t *testing.T) route.Route {
	t.Helper()
	for _, r := range workflows.Routes(workflows.Registry(workflows.Deps{Log: slog.Default()})) {
		if r.Name == workflows.WorkflowExecutionName {
			return r
		}
	}
	t.Fatal("no workflow-execution route")
	return route.Route{}
}

// TestExecuteBinArgs checks the Celery call a workflow-execution request
// maps to: async_execute_bin(schema_name, workflow_id, execution_id,
// hash_values_of_files, scheduled=…, execution_mode=…, pipeline_id=…,
// log_events_id=…, use_file_history=…).
func TestExecuteBinArgs(t *testing.T) {
	rt := executionRoute(t)
	e := route.Call{ExecutionID: "shim-1", OrganizationID: "org_acme"}
	files := `"hash_values_of_files": {"k1": {"file_path": "/in/a.pdf", "file_name": "a.pdf", "file_hash": "ab", "file_size": 9007199254740993}}`
	tests := []struct {
		name, input, args, kwargs string
	}{
		{"defaults", `{"schema_name": "org_acme", "workflow_id": "wf", "execution_id": "ex", ` + files + `, "outputs": [{"name": "n", "prompt": "p"}], "batch_size": 5}`,
			`["org_acme","wf","ex",{"k1":{"file_hash":"ab","file_name":"a.pdf","file_path":"/in/a.pdf","file_size":9007199254740993}}]`,
			`{"execution_mode":null,"log_events_id":null,"pipeline_id":null,"scheduled":false,"use_file_history":true}`},
		{"all fields", `{"schema_name": "s", "workflow_id": "wf", "execution_id": "ex", ` + files + `, "scheduled": true, "execution_mode": "QUEUE", "pipeline_id": "p", "log_events_id": "l", "use_file_history": false}`,
			`["s","wf","ex",{"k1":{"file_hash":"ab","file_name":"a.pdf","file_path":"/in/a.pdf","file_size":9007199254740993}}]`,
			`{"execution_mode":"QUEUE","log_events_id":"l","pipeline_id":"p","scheduled":true,"use_file_history":false}`},
		{"no files", `{"schema_name": "s", "workflow_id": "wf", "execution_id": "ex", "hash_values_of_files": {}}`, "", ""},
		{"no schema", `{"workflow_id": "wf", "execution_id": "ex", ` + files + `}`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args, kwargs, err := rt.Legacy.Args(e, json.RawMessage(tt.input))
			if tt.args == "" {
				if err == nil {
					t.Fatalf("Args = %v %v, want an error", args, kwargs)
				}
				return
			}
			gotArgs, _ := json.Marshal(args)
			gotKwargs, _ := json.Marshal(kwargs)
			if err != nil || string(gotArgs) != tt.args || string(gotKwargs) != tt.kwargs {
				t.Errorf("Args = %s %s %v\nwant   %s %s", gotArgs, gotKwargs, err, tt.args, tt.kwargs)
			}
		})
	}
}

// TestExecuteBinInput reads async_execute_bin calls as the platform makes
// them (workflow_helper.py: four positional arguments, the rest by name)
// into workflow-execution input, numbers exact; a call that sets what a
// run cannot honour stays on Celery.
func TestExecuteBinInput(t *testing.T) {
	rt := executionRoute(t)
	files := `{"k1": {"file_path": "/in/a.pdf", "file_name": "a.pdf", "file_hash": "ab", "file_size": 9007199254740993}}`
	platform := `{"scheduled": false, "execution_mode": null, "pipeline_id": "p", "log_events_id": "l", "use_file_history": true,
		"llm_profile_id": null, "hitl_queue_name": null, "hitl_packet_id": null, "custom_data": null, "transport": "celery"}`
	tests := []struct {
		name, args, kwargs, want, err string
	}{
		{"the platform's call", `["org_acme", "wf", "ex", ` + files + `]`, platform,
			`{"execution_id":"ex","execution_mode":null,"hash_values_of_files":{"k1":{"file_path":"/in/a.pdf","file_name":"a.pdf","file_hash":"ab","file_size":9007199254740993}},"log_events_id":"l","pipeline_id":"p","scheduled":false,"schema_name":"org_acme","use_file_history":true,"workflow_id":"wf"}`, ""},
		{"all by name", `[]`, `{"schema_name": "s", "workflow_id": "wf", "execution_id": "ex", "hash_values_of_files": ` + files + `}`,
			`{"execution_id":"ex","hash_values_of_files":{"k1":{"file_path":"/in/a.pdf","file_name":"a.pdf","file_hash":"ab","file_size":9007199254740993}},"schema_name":"s","workflow_id":"wf"}`, ""},
		{"human in the loop", `["s", "wf", "ex", ` + files + `]`, `{"hitl_queue_name": "review"}`, "", "hitl_queue_name is not supported"},
		{"custom data", `["s", "wf", "ex", ` + files + `]`, `{"custom_data": {"a": 1}}`, "", "custom_data is not supported"},
		{"an unknown argument", `["s", "wf", "ex", ` + files + `]`, `{"priority": 3}`, "", "unknown argument priority"},
		{"too many positional", `["s", "wf", "ex", ` + files + `, false, null, "p", "l", true, 1]`, `{}`, "", "takes 9 positional"},
		{"twice", `["s", "wf", "ex", ` + files + `]`, `{"workflow_id": "wf"}`, "", "workflow_id given by position and by name"},
		{"no files", `["s", "wf", "ex", {}]`, `{}`, "", "required"},
		{"args not a list", `{}`, `{}`, "", "args"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			input, org, err := rt.Legacy.Input(json.RawMessage(tt.args), json.RawMessage(tt.kwargs))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Input = %s, %v; want an error with %q", input, err, tt.err)
				}
				return
			}
			if err != nil || string(input) != tt.want {
				t.Fatalf("Input = %s, %v\nwant    %s", input, err, tt.want)
			}
			var in struct {
				SchemaName string `json:"schema_name"`
			}
			if json.Unmarshal(input, &in); org != in.SchemaName {
				t.Errorf("organisation %q, want the schema_name %q", org, in.SchemaName)
			}
		})
	}
}

// TestExecuteBinRoundTrip maps a request to its Celery call and back: the
// same call, every argument in place.
func TestExecuteBinRoundTrip(t *testing.T) {
	rt := executionRoute(t)
	request := `{"schema_name": "s", "workflow_id": "wf", "execution_id": "ex", "hash_values_of_files": {"k1": {"file_path": "/in/a.pdf", "file_name": "a.pdf", "file_size": 9007199254740993}}, "scheduled": true, "execution_mode": "QUEUE", "pipeline_id": "p", "log_events_id": "l", "use_file_history": false}`
	args, kwargs, err := rt.Legacy.Args(route.Call{}, json.RawMessage(request))
	if err != nil {
		t.Fatal(err)
	}
	rawArgs, _ := json.Marshal(args)
	rawKwargs, _ := json.Marshal(kwargs)
	input, _, err := rt.Legacy.Input(rawArgs, rawKwargs)
	if err != nil {
		t.Fatal(err)
	}
	args2, kwargs2, err := rt.Legacy.Args(route.Call{}, input)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(args, args2) || !reflect.DeepEqual(kwargs, kwargs2) {
		t.Errorf("round trip\n got %v %v\nwant %v %v", args2, kwargs2, args, kwargs)
	}
}

// TestExecuteBinRaises checks the exception async_execute_bin's Celery
// caller gets for a failed run: the platform task's own for an execution
// the platform did not give, the front door's otherwise.
func TestExecuteBinRaises(t *testing.T) {
	const context = `Failed to get execution context: Client error: 404 Not Found: {"error":"WorkflowExecution not found"}`
	tests := []struct {
		name, runError string
		want           route.Exception
		ok             bool
	}{
		{"no context", "run: " + context, route.Exception{Type: "Exception", Module: "builtins", Message: context}, true},
		{"bare", context, route.Exception{Type: "Exception", Module: "builtins", Message: context}, true},
		{"another failure", "run: spawn 2 batches: engine unavailable", route.Exception{}, false},
	}
	raises := executionRoute(t).Legacy.Raises
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, ok := raises(tt.runError); got != tt.want || ok != tt.ok {
				t.Errorf("Raises(%q) = %+v, %v; want %+v, %v", tt.runError, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// TestExecutionCheck checks what the shim refuses before either backend.
func TestExecutionCheck(t *testing.T) {
	adapters, err := workflows.NewLLMAdapters(map[string]llm.Adapter{"local": {BaseURL: "http://127.0.0.1:1/v1", Model: "m"}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	check := workflows.ExecutionCheck(testenv.LocalDocuments(t, dir), adapters)
	valid := map[string]any{"schema_name": "org", "workflow_id": "wf", "execution_id": "ex", "llm_adapter_id": "local",
		"hash_values_of_files": map[string]any{"k": map[string]any{"file_path": dir + "/a.txt"}},
		"outputs":              []map[string]string{{"name": "n", "prompt": "p"}}}
	tests := []struct {
		name   string
		change func(m map[string]any)
		want   string // "" accepts
	}{
		{"valid", func(map[string]any) {}, ""},
		{"no execution id", func(m map[string]any) { delete(m, "execution_id") }, "execution_id"},
		{"no files", func(m map[string]any) { m["hash_values_of_files"] = map[string]any{} }, "no file"},
		{"no outputs", func(m map[string]any) { delete(m, "outputs") }, "outputs"},
		{"unknown adapter", func(m map[string]any) { m["llm_adapter_id"] = "gone" }, "gone"},
		{"path outside the roots", func(m map[string]any) {
			m["hash_values_of_files"] = map[string]any{"k": map[string]any{"file_path": "/etc/passwd"}}
		}, "passwd"},
		{"negative batch size", func(m map[string]any) { m["batch_size"] = -1 }, "batch_size"},
		{"overlap not below size", func(m map[string]any) { m["chunk_size"], m["chunk_overlap"] = 10, 10 }, "overlap"},
		{"key in input", func(m map[string]any) {
			m["llm"] = map[string]string{"base_url": "http://127.0.0.1:1/v1", "model": "m", "api_key": "sk-leak"}
		}, "api_key"},
		{"prompt without a name", func(m map[string]any) { m["outputs"] = []map[string]string{{"prompt": "p"}} }, "outputs[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := map[string]any{}
			for k, v := range valid {
				m[k] = v
			}
			tt.change(m)
			raw, _ := json.Marshal(m)
			err := check(raw)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("check refused valid input: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("check = %v, want an error naming %q", err, tt.want)
			}
		})
	}
}

// TestSummarize checks the fan-in: a file with a result succeeded, any
// other failed, and one failure never hides the others' results.
func TestSummarize(t *testing.T) {
	ok := &workflows.DocumentOutput{ProcessedResults: map[string][]workflows.PromptResult{"n": {{Response: "r"}}}}
	tests := []struct {
		name          string
		files         map[string]workflows.FileOutcome
		okay, failing []string
	}{
		{"none", nil, nil, nil},
		{"all succeed", map[string]workflows.FileOutcome{"a": {Result: ok}, "b": {Result: ok}}, []string{"a", "b"}, nil},
		{"one fails", map[string]workflows.FileOutcome{"a": {Result: ok}, "b": {Error: "boom"}}, []string{"a"}, []string{"b"}},
		{"no result is a failure", map[string]workflows.FileOutcome{"a": {}}, nil, []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := workflows.Summarize(tt.files)
			if got := slices.Sorted(maps.Keys(out.Results)); !reflect.DeepEqual(got, tt.okay) || out.SuccessfulFiles != len(tt.okay) {
				t.Errorf("successful = %v (%d), want %v", got, out.SuccessfulFiles, tt.okay)
			}
			if got := slices.Sorted(maps.Keys(out.Errors)); !reflect.DeepEqual(got, tt.failing) || out.FailedFiles != len(tt.failing) {
				t.Errorf("failed = %v (%d), want %v", got, out.FailedFiles, tt.failing)
			}
		})
	}
}
