package cli

import (
	"errors"
	"flag"
)

// Exit codes shared by the service and every subcommand.
const (
	ExitOK      = 0 // done; also after printing requested help
	ExitFailed  = 1 // the task or run failed, or the service stopped on an error
	ExitUsage   = 2 // bad arguments, configuration, token or broker
	ExitTimeout = 3 // no final state before --timeout
)

// usageExit is the exit code after arguments failed to parse: ExitOK when
// they asked for help (the flag package has printed it), else ExitUsage.
func usageExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	return ExitUsage
}
