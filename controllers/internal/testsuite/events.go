package testsuite

import (
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
)

// CapturedEvent is one event a CaptureEvents recorder received.
type CapturedEvent struct {
	Type, Reason, Note string
}

// CaptureEvents is an EventRecorder that keeps events in memory, for reconcilers called directly.
type CaptureEvents struct {
	mu     sync.Mutex
	events []CapturedEvent
}

// Eventf records the event.
func (c *CaptureEvents) Eventf(_ runtime.Object, _ runtime.Object, eventtype, reason, _, note string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, CapturedEvent{Type: eventtype, Reason: reason, Note: fmt.Sprintf(note, args...)})
}

// List is the events recorded so far.
func (c *CaptureEvents) List() []CapturedEvent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]CapturedEvent(nil), c.events...)
}

// RecordedEvents is a CaptureEvents that lists each event as "type reason note".
type RecordedEvents struct{ CaptureEvents }

// List is the events recorded so far, as "type reason note".
func (e *RecordedEvents) List() []string {
	var out []string
	for _, ev := range e.CaptureEvents.List() {
		out = append(out, ev.Type+" "+ev.Reason+" "+ev.Note)
	}
	return out
}

// NoEvents is an EventRecorder that drops events, for reconcilers called directly in tests.
type NoEvents struct{}

// Eventf drops the event.
func (NoEvents) Eventf(runtime.Object, runtime.Object, string, string, string, string, ...any) {}
