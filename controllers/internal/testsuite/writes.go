package testsuite

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"

	"k8s.io/client-go/rest"
)

// WriteCounter records the write requests (every method but GET, HEAD and OPTIONS) a client sends
// to the apiserver, so tests can assert how many writes a reconcile made and to what.
type WriteCounter struct {
	mu     sync.Mutex
	writes []string
	// statusBodies are the bodies of the status writes, to tell what a reconcile wrote when it
	// should have written nothing (a status holds no secret values).
	statusBodies []string
}

// Wrap returns a copy of cfg whose requests pass through the counter.
func (w *WriteCounter) Wrap(cfg *rest.Config) *rest.Config {
	out := rest.CopyConfig(cfg)
	out.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			switch req.Method {
			case http.MethodGet, http.MethodHead, http.MethodOptions:
			default:
				body := statusBody(req)
				w.mu.Lock()
				w.writes = append(w.writes, req.Method+" "+req.URL.Path)
				if body != "" {
					w.statusBodies = append(w.statusBodies, req.URL.Path+" "+body)
				}
				w.mu.Unlock()
			}
			return rt.RoundTrip(req)
		})
	})
	return out
}

// Mark returns a position to pass to Since.
func (w *WriteCounter) Mark() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.writes)
}

// Since returns the writes recorded after mark.
func (w *WriteCounter) Since(mark int) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.writes[mark:]...)
}

// StatusBodies returns the path and body of every status write recorded.
func (w *WriteCounter) StatusBodies() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.statusBodies...)
}

// statusBody reads the body of a write to a status subresource and puts it back; empty for
// any other request.
func statusBody(req *http.Request) string {
	if !strings.HasSuffix(req.URL.Path, "/status") || req.Body == nil {
		return ""
	}
	b, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	req.Body = io.NopCloser(bytes.NewReader(b))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return string(b)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
