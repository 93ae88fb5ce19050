package engine

// Version is the Hatchet version this binary's SDK (and, unless built with
// the hatchet_external tag, its embedded engine) comes from.
const Version = "v0.105.0"
