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

func (c *CaptureEvents) Eventf(_ runtime.Object, _ runtime.Object, eventtype, reason, _, note string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, CapturedEvent{Type: eventtype, Reason: reason, Note: fmt.Sprintf(note, args...)})
}

func (c *CaptureEvents) List() []CapturedEvent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]CapturedEvent(nil), c.events...)
}

// RecordedEvents is an EventRecorder that keeps "type reason note" of each event.
type RecordedEvents struct {
	mu     sync.Mutex
	events []string
}

func (e *RecordedEvents) Eventf(_ runtime.Object, _ runtime.Object, eventtype, reason, _, note string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, eventtype+" "+reason+" "+fmt.Sprintf(note, args...))
}

func (e *RecordedEvents) List() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.events...)
}

// NoEvents is an EventRecorder that drops events, for reconcilers called directly in tests.
type NoEvents struct{}

// Eventf drops the event.
func (NoEvents) Eventf(runtime.Object, runtime.Object, string, string, string, string, ...any) {}
