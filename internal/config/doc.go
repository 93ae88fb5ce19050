// Package config reads the service's configuration from the environment.
//
// Each concern has its own struct (Hatchet, Embedded, Celery, Service,
// Worker, Log, Routing, Shim); Load fills them all with caarlos0/env and then
// validates the result as a whole, so one call reports every problem at once
// instead of failing on the first. The README's configuration table lists the
// same variables; TestTable keeps the two honest.
package config
