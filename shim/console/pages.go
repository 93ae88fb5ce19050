package console

import (
	"net/http"
	"net/url"
	"time"

	"github.com/unstract/hatchet-worker/featureflag"
	"github.com/unstract/hatchet-worker/shim"
	"github.com/unstract/hatchet-worker/shim/api"
)

// windows are the overview's windows, and the buckets of its charts.
var windows = []struct {
	Name string
	Span time.Duration
	Step time.Duration
}{
	{"1h", time.Hour, 5 * time.Minute},
	{"24h", 24 * time.Hour, time.Hour},
	{"7d", 7 * 24 * time.Hour, 6 * time.Hour},
}

// overviewData is the overview page.
type overviewData struct {
	Windows   []string
	Window    string
	Summary   shim.Summary
	Charts    map[string]chart // by workflow
	Generated time.Time
}

func (c *Console) overview(w http.ResponseWriter, r *http.Request, s session) {
	win := windows[1]
	for _, x := range windows {
		if r.URL.Query().Get("window") == x.Name {
			win = x
		}
	}
	sum, err := c.d.Summary(r.Context(), win.Span)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	points, since, err := c.d.Series(r.Context(), win.Span, win.Step)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	data := overviewData{Window: win.Name, Summary: sum, Charts: map[string]chart{}, Generated: c.now().UTC()}
	for _, x := range windows {
		data.Windows = append(data.Windows, x.Name)
	}
	for _, wf := range sum.Workflows {
		data.Charts[wf.Workflow] = newChart(wf.Workflow, points, since, win.Step, int(win.Span/win.Step)+1)
	}
	c.render(w, r, http.StatusOK, "overview", page{Title: "Overview", Nav: "overview", CSRF: s.csrf, Refresh: 30, Data: data})
}

// executionsData is the executions page.
type executionsData struct {
	Query     url.Values
	Workflows []string
	Backends  []featureflag.Backend
	States    []string
	Sinces    []string
	Page      shim.Page
	NextURL   string
	Refresh   bool
	PauseURL  string
}

// listRefresh is the executions list's auto-refresh period.
const listRefresh = 10

func (c *Console) executions(w http.ResponseWriter, r *http.Request, s session) {
	v := r.URL.Query()
	q, err := api.ParseListQuery(v)
	var p shim.Page
	if err == nil {
		p, err = c.d.Executions(r.Context(), q)
	}
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	data := executionsData{Query: v, Backends: []featureflag.Backend{featureflag.BackendHatchet, featureflag.BackendCelery},
		States: []string{shim.StateQueued, shim.StateRunning, shim.StateSucceeded, shim.StateFailed, shim.StateCancelled, shim.StateUnknown},
		Sinces: []string{"1h", "24h", "7d", "30d"}, Page: p, Refresh: v.Get("refresh") != "off"}
	for _, wf := range c.d.Workflows() {
		data.Workflows = append(data.Workflows, wf.Name)
	}
	if p.NextCursor != "" {
		data.NextURL = withParam(v, "cursor", p.NextCursor)
	}
	refresh := 0
	if data.Refresh {
		refresh = listRefresh
		data.PauseURL = withParam(v, "refresh", "off")
	} else {
		data.PauseURL = withParam(v, "refresh", "")
	}
	c.render(w, r, http.StatusOK, "executions", page{Title: "Executions", Nav: "executions", CSRF: s.csrf, Refresh: refresh, Data: data})
}

// withParam is the executions URL with v's parameters and key set to
// value (removed when empty).
func withParam(v url.Values, key, value string) string {
	out := url.Values{}
	for k, vs := range v {
		out[k] = vs
	}
	out.Del(key)
	if value != "" {
		out.Set(key, value)
	}
	return "/console/executions?" + out.Encode()
}

// executionData is the execution detail page.
type executionData struct {
	Status   shim.Status
	Timeline []event
	Result   string // indented JSON
}

// event is one step of an execution's timeline.
type event struct {
	At   time.Time
	What string
}

// detailRefresh is the detail page's refresh period while the execution runs.
const detailRefresh = 5

func (c *Console) execution(w http.ResponseWriter, r *http.Request, s session) {
	st, err := c.d.Status(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	data := executionData{Status: st, Timeline: timeline(st), Result: indentJSON(st.Result)}
	refresh := detailRefresh
	if st.Final() {
		refresh = 0
	}
	c.render(w, r, http.StatusOK, "execution", page{Title: "Execution " + st.ExecutionID, Nav: "executions", CSRF: s.csrf, Refresh: refresh, Data: data})
}

// timeline lists the steps st shows.
func timeline(st shim.Status) []event {
	evs := []event{{st.CreatedAt, "accepted by " + string(st.Backend) + " (" + string(st.Reason) + ")"}}
	if st.StartedAt != nil {
		evs = append(evs, event{*st.StartedAt, "started"})
	}
	if st.FinishedAt != nil {
		evs = append(evs, event{*st.FinishedAt, st.State + " after " + st.FinishedAt.Sub(st.CreatedAt).Round(time.Millisecond).String()})
	} else {
		evs = append(evs, event{time.Now(), "now " + st.State + " (" + st.BackendState + ")"})
	}
	return evs
}

// flagsData is the flags page.
type flagsData struct {
	State     FlagState
	Rules     string // indented JSON
	Workflows []shim.WorkflowInfo
}

func (c *Console) flagsPage(w http.ResponseWriter, r *http.Request, s session) {
	var st FlagState
	if c.flags != nil {
		st = c.flags()
	}
	data := flagsData{State: st, Rules: indentJSON(mustJSON(st.Rules)), Workflows: c.d.Workflows()}
	c.render(w, r, http.StatusOK, "flags", page{Title: "Flags", Nav: "flags", CSRF: s.csrf, Data: data})
}
