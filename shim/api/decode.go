package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/unstract/hatchet-worker/internal/jsonerr"
	"github.com/unstract/hatchet-worker/shim"
)

// DecodeExecute reads an execute request from r, reading at most limit
// bytes. Every failure is an *APIError with the right status; the
// Dispatcher validates the fields.
func DecodeExecute(r io.Reader, limit int64) (shim.ExecuteRequest, error) {
	body, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return shim.ExecuteRequest{}, tooLarge(limit)
		}
		return shim.ExecuteRequest{}, apiError(http.StatusBadRequest, CodeBadJSON, "could not read request body")
	}
	if int64(len(body)) > limit {
		return shim.ExecuteRequest{}, tooLarge(limit)
	}
	var req shim.ExecuteRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return shim.ExecuteRequest{}, apiError(http.StatusBadRequest, CodeBadJSON, "malformed JSON: "+jsonerr.Describe(err))
	}
	if dec.More() {
		return shim.ExecuteRequest{}, apiError(http.StatusBadRequest, CodeBadJSON, "malformed JSON: trailing data after the object")
	}
	return req, nil
}

func tooLarge(limit int64) *APIError {
	return apiError(http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("request body exceeds %d bytes", limit))
}
