package main

import (
	"os"
	"runtime/debug"
)

// defaultGCPercent is the garbage collector's GOGC when the environment sets none. The operator's
// live heap is mostly its cache, which changes little, while each reconcile makes short-lived
// garbage: at the runtime's 100 the process may hold as much garbage as cache (peak RSS 180–197
// MiB at 1,000 clusters, of which 64 MB live); at 50 it holds half as much for about a tenth more
// CPU while many clusters reconcile at once (docs/performance.md, issue #23 step 21).
const defaultGCPercent = 50

// setDefaultGCPercent sets GOGC to defaultGCPercent unless the environment sets it; it returns
// the percent in force.
func setDefaultGCPercent() int {
	if os.Getenv("GOGC") != "" {
		percent := debug.SetGCPercent(-1)
		debug.SetGCPercent(percent)
		return percent
	}
	debug.SetGCPercent(defaultGCPercent)
	return defaultGCPercent
}
