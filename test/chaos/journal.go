package chaos

import (
	"fmt"
	"sync"
	"time"
)

// Entry is one thing that happened in the campaign: a fault, a stage boundary or a violation.
type Entry struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`
	Stage  string    `json:"stage,omitempty"`
	Detail string    `json:"detail"`
}

// Kinds of entries.
const (
	KindStage        = "stage"
	KindKill         = "operator-kill"
	KindRestart      = "control-plane-restart"
	KindFaultWindow  = "coordinator-faults"
	KindViolation    = "violation"
	KindNote         = "note"
	maxViolationKeys = 200
)

// Journal records entries in order; safe for concurrent use.
type Journal struct {
	mu      sync.Mutex
	stage   string
	entries []Entry
	seen    map[string]bool
	logf    func(format string, args ...any)
}

// NewJournal is an empty journal that also prints each entry with logf.
func NewJournal(logf func(string, ...any)) *Journal {
	return &Journal{seen: map[string]bool{}, logf: logf}
}

// SetStage names the stage later entries belong to.
func (j *Journal) SetStage(stage string) {
	j.mu.Lock()
	j.stage = stage
	j.mu.Unlock()
	j.Add(KindStage, "start of %s", stage)
}

// Stage is the stage under way.
func (j *Journal) Stage() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.stage
}

// Add records an entry now.
func (j *Journal) Add(kind, format string, args ...any) {
	e := Entry{At: time.Now(), Kind: kind, Detail: fmt.Sprintf(format, args...)}
	j.mu.Lock()
	e.Stage = j.stage
	j.entries = append(j.entries, e)
	j.mu.Unlock()
	if j.logf != nil {
		j.logf("%s [%s] %s: %s", e.At.UTC().Format("15:04:05.000"), e.Stage, e.Kind, e.Detail)
	}
}

// Violation records a broken invariant once per key (the same broken pair is not repeated
// at every sample).
func (j *Journal) Violation(key, format string, args ...any) {
	j.mu.Lock()
	if j.seen[key] || len(j.seen) >= maxViolationKeys {
		j.mu.Unlock()
		return
	}
	j.seen[key] = true
	j.mu.Unlock()
	j.Add(KindViolation, format, args...)
}

// Entries returns a copy of the entries.
func (j *Journal) Entries() []Entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]Entry(nil), j.entries...)
}

// Count is the number of entries of kind.
func (j *Journal) Count(kind string) int {
	n := 0
	for _, e := range j.Entries() {
		if e.Kind == kind {
			n++
		}
	}
	return n
}
