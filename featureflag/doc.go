// Package featureflag decides, per request, whether work runs on Hatchet or
// on legacy Celery, and records why.
//
// # Model
//
// A Flags value holds the effective rules: a Config the caller builds from the
// environment (USE_TASK_ABSTRACTION, TASK_ABSTRACTION_PERCENT,
// FEATURE_FLAGS_ALLOW_REQUEST_OVERRIDE, FEATURE_FLAGS_FILE), overlaid by an
// optional flags file. The rules are compiled into an immutable state behind
// an atomic pointer, so Decide never locks and never allocates; a reload
// builds a new state and swaps it in whole.
//
// # Precedence
//
// Decide applies the first rule that matches, and the Decision carries it as
// its Reason:
//
//  1. ReasonRequest: the request's own override (use_abstraction), honoured
//     only when AllowRequestOverride is on. When it is off the override is
//     ignored: the Reason stays the rule that did decide and the Decision's
//     OverrideIgnored field is true.
//  2. ReasonOrgDeny / ReasonOrgAllow: the organisation is on the workflow's
//     or the global deny list (Celery) or allow list (Hatchet). Deny beats
//     allow. An empty organisation matches no list.
//  3. ReasonWorkflow: the workflow's "enabled" switch pins it on or off.
//  4. ReasonPercentage: a rollout percentage, the workflow's own when set
//     (even to zero) or else the global one when above zero. The request is hashed with FNV-1a
//     over workflow+"/"+org (or the routing key when org is empty) into one of
//     10,000 buckets; buckets below percent*100 go to Hatchet. So one org
//     always lands on the same side at a given percentage, and raising the
//     percentage only moves requests from Celery to Hatchet.
//  5. ReasonGlobal: USE_TASK_ABSTRACTION.
//
// # Flags file
//
// The file is JSON (.json) or YAML (.yaml, .yml), decoded strictly: unknown
// fields, an empty file, a percentage outside 0–100, a workflow with both
// "enabled" and "percentage", or (with WithKnownWorkflows) an unknown
// workflow name are errors. Fields present in the file override the
// environment:
//
//	use_task_abstraction: false
//	allow_request_override: true
//	percentage: 0
//	allow_orgs: []
//	deny_orgs: []
//	workflows:
//	  document-processing-v2: {percentage: 50, allow_orgs: [org_a], deny_orgs: [org_b]}
//
// A missing or invalid file is an error from New. Afterwards Watch reloads it
// when it changes, through fsnotify on its directory (so rename-over and
// editors work) and a periodic poll as a fallback. A file that fails to load
// is logged and reported by Snapshot; the last good rules stay in force.
package featureflag
