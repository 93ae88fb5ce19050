// Package config reads the service's configuration from the environment.
//
// Each concern has its own struct (Hatchet, Embedded, Celery, Service,
// Worker, Log, Routing, Shim, Helpers, Platform); Load fills them all with
// caarlos0/env and then validates the result as a whole, so one call reports
// every problem at once instead of failing on the first. Validation covers
// what used to fail only after start-up: LLM_ADAPTERS is parsed in full
// (Helpers.Adapters), the feature flags file must exist and load, and every
// URL is checked. A command passes the parts it uses (UseEngine, UseCelery,
// UseHelpers, UseShim); settings of other parts are neither checked nor
// required. The README's configuration table lists the same variables;
// TestREADMETable keeps the two honest.
package config
