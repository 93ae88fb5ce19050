// Package engine connects the service to a Hatchet engine.
//
// With a token (HATCHET_CLIENT_TOKEN) Connect joins an external engine such as
// hatchet-lite. Without one it starts a full engine in this process (Embedded):
// Hatchet's migrations, seed, engine services and REST API, against the
// Postgres database named by DATABASE_URL, which it creates when missing.
//
// The embedded engine's encryption keys and its API token live in a table of
// the same database (schema hatchet_worker), so a restart — or another process
// pointed at the same database — sees the same runs, workflows and tokens.
// The token is also written to a file (mode 0600) for CLIs and dashboards.
//
// The embedded engine listens on 127.0.0.1 only (gRPC and REST API; Hatchet's
// health server, which cannot be narrowed, is off) and seeds no user, so its
// token is the only way in. A user an older version seeded with Hatchet's
// published credentials is removed at start.
//
// Built with -tags hatchet_external the binary leaves the embedded engine
// out (a token is then required): a worker that only ever joins an external
// engine maps much less code and needs about 20 MB less resident memory.
package engine
