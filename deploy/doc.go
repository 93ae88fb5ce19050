// Package deploy checks the deployment files at the repository root —
// compose.yaml, Dockerfile and the bootstrap files in this directory — without
// a Docker engine: its test loads compose.yaml with the Compose specification's
// own Go loader and holds it to what the service really reads (the README's
// configuration table), to the Hatchet version in go.mod, and to the
// dependency and health-check wiring a `docker compose up` relies on. It
// also checks that scripts/test.sh runs its tools as pinned in go.mod. The
// package has no code of its own.
package deploy
