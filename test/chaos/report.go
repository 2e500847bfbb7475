package chaos

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Report is the campaign's outcome, written under bin/chaos.
type Report struct {
	Form                string         `json:"form"`
	Seed                int64          `json:"seed"`
	Replay              string         `json:"replay"`
	Started             time.Time      `json:"started"`
	Duration            string         `json:"duration"`
	OperatorKills       int            `json:"operatorKills"`
	ControlPlane        []Entry        `json:"controlPlaneRestarts"`
	FaultWindows        []Entry        `json:"coordinatorFaultWindows"`
	Kills               []Entry        `json:"kills"`
	Stages              []StageReport  `json:"stages"`
	RestartsByPod       map[string]int `json:"restartsByPod"`
	ConvergeBound       string         `json:"convergeBound"`
	LongestNonConverged string         `json:"longestNonConverged"`
	LongestFrom         time.Time      `json:"longestNonConvergedFrom"`
	Checker             Stats          `json:"checker"`
	Violations          []Entry        `json:"violations"`
	Journal             []Entry        `json:"journal"`
}

func (cp *Campaign) report(began time.Time) *Report {
	r := &Report{Form: cp.cfg.Form, Seed: cp.cfg.Seed, Started: began, Duration: time.Since(began).Round(time.Second).String(),
		Replay: fmt.Sprintf("CHAOS_SEED=%d make chaos%s", cp.cfg.Seed, map[bool]string{true: "", false: " (CHAOS_FULL unset: go test ./test/chaos/)"}[cp.cfg.Form == "full"]),
		Stages: cp.stages, RestartsByPod: map[string]int{}, ConvergeBound: cp.cfg.ConvergeBound.String(), Journal: cp.journal.Entries()}
	if cp.cfg.Form != "full" {
		r.Replay = fmt.Sprintf("CHAOS_SEED=%d go test ./test/chaos/ -count=1 -v", cp.cfg.Seed)
	}
	for _, e := range r.Journal {
		switch e.Kind {
		case KindKill:
			r.Kills = append(r.Kills, e)
		case KindRestart:
			r.ControlPlane = append(r.ControlPlane, e)
		case KindFaultWindow:
			r.FaultWindows = append(r.FaultWindows, e)
		case KindViolation:
			r.Violations = append(r.Violations, e)
		}
	}
	r.OperatorKills = len(r.Kills)
	for _, s := range cp.stages {
		for k, n := range s.RestartsByPod {
			r.RestartsByPod[k] += n
		}
	}
	if cp.ck != nil {
		r.Checker = cp.ck.Stats()
		r.LongestNonConverged, r.LongestFrom = r.Checker.LongestUnconverged.Round(time.Millisecond).String(), r.Checker.LongestFrom
	}
	return r
}

// Text is the report for people.
func (r *Report) Text() string {
	var b strings.Builder
	ts := func(t time.Time) string { return t.UTC().Format("15:04:05.000") }
	fmt.Fprintf(&b, "Fault campaign (%s form), seed %d, %s, started %s UTC\n", r.Form, r.Seed, r.Duration, r.Started.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "replay: %s\n\n", r.Replay)
	fmt.Fprintf(&b, "operator SIGKILLs: %d\n", r.OperatorKills)
	for _, e := range r.Kills {
		fmt.Fprintf(&b, "  %s [%s] %s\n", ts(e.At), e.Stage, e.Detail)
	}
	fmt.Fprintf(&b, "control-plane restarts: %d\n", len(r.ControlPlane))
	for _, e := range r.ControlPlane {
		fmt.Fprintf(&b, "  %s [%s] %s\n", ts(e.At), e.Stage, e.Detail)
	}
	fmt.Fprintf(&b, "coordinator fault windows: %d\n", len(r.FaultWindows))
	for _, e := range r.FaultWindows {
		fmt.Fprintf(&b, "  %s [%s] %s\n", ts(e.At), e.Stage, e.Detail)
	}
	fmt.Fprintf(&b, "\nstages (bound: converged within %s of the stage's last fault):\n", r.ConvergeBound)
	for _, s := range r.Stages {
		fmt.Fprintf(&b, "  %-18s %s to converge, %s after its last fault; groups %v\n", s.Name, s.Duration, s.AfterFaults, s.Sequence)
	}
	fmt.Fprintf(&b, "\nrestarts per pod (all stages):")
	var keys []string
	for k := range r.RestartsByPod {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%d", k, r.RestartsByPod[k])
	}
	fmt.Fprintf(&b, "\nlongest non-converged stretch: %s (from %s)\n", r.LongestNonConverged, ts(r.LongestFrom))
	fmt.Fprintf(&b, "checker: %d samples every %s (%d while the apiserver was unreachable; longest gap between answered samples %s), %d pod pairs verified\n",
		r.Checker.Samples, SampleInterval, r.Checker.UnavailableSamples, r.Checker.MaxSampleGap.Round(time.Millisecond), r.Checker.PairsVerified)
	fmt.Fprintf(&b, "\nviolations: %d\n", len(r.Violations))
	for _, e := range r.Violations {
		fmt.Fprintf(&b, "  %s [%s] %s\n", ts(e.At), e.Stage, e.Detail)
	}
	return b.String()
}

// Write saves the report as report-<form>.json and .txt in dir and returns the text's path.
func (r *Report) Write(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "report-"+r.Form+".json"), data, 0o644); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "report-"+r.Form+".txt")
	return path, os.WriteFile(path, []byte(r.Text()), 0o644)
}
