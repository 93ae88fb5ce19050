package shim

// NewMemStore returns the in-memory store the dispatcher's tests use, for
// the store contract suite (store_contract_test.go).
func NewMemStore() *memStore { return newMemStore() }
