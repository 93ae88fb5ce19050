package api

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/unstract/hatchet-worker/shim"
)

func TestDecodeExecute(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		status int // 0 means accepted
		code   string
	}{
		{"valid", `{"workflow":"document-processing-v2","input":{"a":1},"organization_id":"org"}`, 0, ""},
		{"valid with key and override", `{"workflow":"w","input":{},"organization_id":"o","idempotency_key":"k","use_abstraction":true}`, 0, ""},
		{"empty body", ``, http.StatusBadRequest, CodeBadJSON},
		{"not json", `workflow=x`, http.StatusBadRequest, CodeBadJSON},
		{"truncated", `{"workflow":"w"`, http.StatusBadRequest, CodeBadJSON},
		{"array", `[1,2]`, http.StatusBadRequest, CodeBadJSON},
		{"wrong type", `{"workflow":7,"input":{},"organization_id":"o"}`, http.StatusBadRequest, CodeBadJSON},
		{"unknown field", `{"workflow":"w","input":{},"organization_id":"o","priority":1}`, http.StatusBadRequest, CodeBadJSON},
		{"trailing data", `{"workflow":"w","input":{},"organization_id":"o"} {}`, http.StatusBadRequest, CodeBadJSON},
		{"missing workflow", `{"input":{},"organization_id":"o"}`, http.StatusUnprocessableEntity, CodeInvalid},
		{"missing org", `{"workflow":"w","input":{}}`, http.StatusUnprocessableEntity, CodeInvalid},
		{"missing input", `{"workflow":"w","organization_id":"o"}`, http.StatusUnprocessableEntity, CodeInvalid},
		{"null input", `{"workflow":"w","input":null,"organization_id":"o"}`, http.StatusUnprocessableEntity, CodeInvalid},
		{"input not object", `{"workflow":"w","input":[1],"organization_id":"o"}`, http.StatusUnprocessableEntity, CodeInvalid},
		{"blank workflow", `{"workflow":"  ","input":{},"organization_id":"o"}`, http.StatusUnprocessableEntity, CodeInvalid},
		{"key too long", `{"workflow":"w","input":{},"organization_id":"o","idempotency_key":"` + strings.Repeat("k", 300) + `"}`, http.StatusUnprocessableEntity, CodeInvalid},
		{"too large", `{"workflow":"w","input":{"x":"` + strings.Repeat("x", 2000) + `"},"organization_id":"o"}`, http.StatusRequestEntityTooLarge, CodeTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := DecodeExecute(strings.NewReader(tt.body), 1024)
			if err == nil {
				err = req.Validate()
			}
			if tt.status == 0 {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				if req.Workflow == "" || req.OrganizationID == "" {
					t.Errorf("decoded %+v", req)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			ae := toAPIError(err)
			if ae.Status != tt.status || ae.Code != tt.code {
				t.Errorf("got %d %s (%s), want %d %s", ae.Status, ae.Code, ae.Message, tt.status, tt.code)
			}
		})
	}
}

// FuzzDecodeExecute checks the decoder never panics, and that it either
// decodes a request or answers a 4xx APIError.
func FuzzDecodeExecute(f *testing.F) {
	f.Add(`{"workflow":"w","input":{},"organization_id":"o"}`)
	f.Add(`{"workflow":"w","input":{"nested":[1,2,{"x":null}]},"organization_id":"o","use_abstraction":false}`)
	f.Add(`{"workflow":"\u0000","input":{},"organization_id":"\ud800"}`)
	f.Add(`[]`)
	f.Add(``)
	f.Fuzz(func(t *testing.T, body string) {
		req, err := DecodeExecute(strings.NewReader(body), 4096)
		if err == nil {
			if verr := req.Validate(); verr != nil && !errors.Is(verr, shim.ErrInvalidInput) {
				t.Fatalf("validation failed with %v, want shim.ErrInvalidInput", verr)
			}
			return
		}
		var ae *APIError
		if !errors.As(err, &ae) {
			t.Fatalf("error is not an APIError: %v", err)
		}
		if ae.Status < 400 || ae.Status > 499 || ae.Code == "" || ae.Message == "" {
			t.Fatalf("bad APIError %+v", ae)
		}
	})
}
