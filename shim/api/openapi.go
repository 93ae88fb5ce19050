package api

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"

	"go.yaml.in/yaml/v3"
)

// document is the API's OpenAPI 3.1 document, kept as YAML for its readers.
//
//go:embed openapi.yaml
var document []byte

// Document returns the API's OpenAPI 3.1 document (YAML), which
// GET /api/v2/openapi.json serves as JSON.
func Document() []byte { return document }

// documentJSON is the document as JSON, made once.
var documentJSON = mustJSON(document)

// mustJSON converts the embedded YAML document to JSON; the document is
// part of the binary, so a failure is a build defect.
func mustJSON(doc []byte) []byte {
	var v any
	if err := yaml.Unmarshal(doc, &v); err != nil {
		panic(fmt.Sprintf("api: openapi.yaml: %v", err))
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("api: openapi.yaml as JSON: %v", err))
	}
	return b
}

// openapi is GET /api/v2/openapi.json: the document, with no token needed.
func (s *Server) openapi(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(documentJSON)
	return err
}
