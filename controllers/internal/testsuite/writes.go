package testsuite

import (
	"net/http"
	"sync"

	"k8s.io/client-go/rest"
)

// WriteCounter records the write requests (every method but GET, HEAD and OPTIONS) a client sends
// to the apiserver, so tests can assert how many writes a reconcile made and to what.
type WriteCounter struct {
	mu     sync.Mutex
	writes []string
}

// Wrap returns a copy of cfg whose requests pass through the counter.
func (w *WriteCounter) Wrap(cfg *rest.Config) *rest.Config {
	out := rest.CopyConfig(cfg)
	out.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			switch req.Method {
			case http.MethodGet, http.MethodHead, http.MethodOptions:
			default:
				w.mu.Lock()
				w.writes = append(w.writes, req.Method+" "+req.URL.Path)
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

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
