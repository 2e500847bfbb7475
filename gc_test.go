package main

import (
	"runtime/debug"
	"testing"
)

// TestDefaultGCPercent: without GOGC the operator collects at defaultGCPercent; GOGC wins.
func TestDefaultGCPercent(t *testing.T) {
	before := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(before) })

	t.Setenv("GOGC", "")
	if got := setDefaultGCPercent(); got != defaultGCPercent {
		t.Errorf("without GOGC: %d, want %d", got, defaultGCPercent)
	}
	if got := debug.SetGCPercent(100); got != defaultGCPercent {
		t.Errorf("without GOGC the runtime's percent is %d, want %d", got, defaultGCPercent)
	}

	t.Setenv("GOGC", "100") // the runtime read it at start; its percent is 100 here
	if got := setDefaultGCPercent(); got != 100 {
		t.Errorf("with GOGC=100: %d, want 100", got)
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC=100 the runtime's percent is %d, want it left at 100", got)
	}
}
