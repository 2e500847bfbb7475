// Package exposition serves the operator's /metrics with series that no registry holds: the
// registry's families in the Prometheus text format, then families written straight to the
// response at scrape time. A registry's Gather builds a dto.Metric, a gauge and a label slice
// for every series and holds them all until the response is written; at 1,000 clusters of 46
// series that was 20 MB a scrape, a fifth of the operator's peak heap (docs/performance.md).
// Families written here cost a few kilobytes of buffer, whatever their size.
package exposition

import (
	"bufio"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/go-logr/logr"
	"github.com/prometheus/common/expfmt"
	"k8s.io/client-go/rest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// Path is where the metrics are served; other paths pass through unchanged.
const Path = "/metrics"

// textFormat is the content type of the response: the text format every Prometheus reads.
var textFormat = string(expfmt.NewFormat(expfmt.TypeTextPlain))

// FilterProvider is the type of metricsserver.Options' FilterProvider.
type FilterProvider = func(config *rest.Config, httpClient *http.Client) (metricsserver.Filter, error)

// Writer writes metric families in the Prometheus text format, each family's lines together and
// none of them a family the registry also serves.
type Writer func(w io.Writer) error

// Appending is a FilterProvider: at Path it serves the registry's
// exposition (the handler it wraps, asked for the text format without compression) followed by
// what write writes, gzip-compressed when the client accepts it. An answer of the registry other
// than 200 is passed on as it is, without the appended families.
func Appending(write Writer) FilterProvider {
	return func(*rest.Config, *http.Client) (metricsserver.Filter, error) {
		return func(log logr.Logger, next http.Handler) (http.Handler, error) {
			return &appender{next: next, write: write, log: log}, nil
		}, nil
	}
}

// Chain is a FilterProvider whose filter is the filters of providers, the first outermost: a
// request reaches the second only through the first.
func Chain(providers ...FilterProvider) FilterProvider {
	return func(config *rest.Config, httpClient *http.Client) (metricsserver.Filter, error) {
		filters := make([]metricsserver.Filter, 0, len(providers))
		for _, p := range providers {
			f, err := p(config, httpClient)
			if err != nil {
				return nil, err
			}
			filters = append(filters, f)
		}
		return func(log logr.Logger, next http.Handler) (http.Handler, error) {
			for i := len(filters) - 1; i >= 0; i-- {
				var err error
				if next, err = filters[i](log, next); err != nil {
					return nil, err
				}
			}
			return next, nil
		}, nil
	}
}

// appender serves next's exposition followed by write's families.
type appender struct {
	next  http.Handler
	write Writer
	log   logr.Logger
}

func (a *appender) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != Path {
		a.next.ServeHTTP(w, r)
		return
	}
	inner := r.Clone(r.Context())
	inner.Header.Set("Accept", textFormat)
	inner.Header.Del("Accept-Encoding")
	resp := &textResponse{w: w, gzip: acceptsGzip(r)}
	defer resp.close()
	a.next.ServeHTTP(resp, inner)
	if resp.code == 0 {
		resp.WriteHeader(http.StatusOK) // an empty registry
	}
	if resp.code != http.StatusOK {
		return
	}
	buf := bufio.NewWriterSize(resp.body, 32<<10)
	if err := a.write(buf); err != nil {
		a.log.Error(err, "Could not write the metrics", "path", Path)
		return
	}
	if err := buf.Flush(); err != nil {
		a.log.V(4).Info("Could not send the metrics", "path", Path, "error", err.Error())
	}
}

// acceptsGzip is whether the request's Accept-Encoding names gzip.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		if enc, _, _ := strings.Cut(strings.TrimSpace(part), ";"); strings.EqualFold(enc, "gzip") {
			return true
		}
	}
	return false
}

// gzipWriters are reused across scrapes: a compressor holds several hundred kilobytes.
var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

// textResponse is the response the registry's handler writes to: once it answers 200 its body
// goes to body, compressed when the client accepts gzip; any other answer goes out unchanged.
type textResponse struct {
	w    http.ResponseWriter
	gzip bool
	code int
	body io.Writer
	gz   *gzip.Writer
}

func (t *textResponse) Header() http.Header { return t.w.Header() }

func (t *textResponse) WriteHeader(code int) {
	if t.code != 0 {
		return
	}
	t.code, t.body = code, t.w
	if code == http.StatusOK {
		h := t.w.Header()
		h.Set("Content-Type", textFormat)
		h.Del("Content-Length")
		h.Add("Vary", "Accept-Encoding")
		if t.gzip {
			h.Set("Content-Encoding", "gzip")
			t.gz = gzipWriters.Get().(*gzip.Writer)
			t.gz.Reset(t.w)
			t.body = t.gz
		}
	}
	t.w.WriteHeader(code)
}

func (t *textResponse) Write(p []byte) (int, error) {
	if t.code == 0 {
		t.WriteHeader(http.StatusOK)
	}
	return t.body.Write(p)
}

// close ends the compressed stream, if any.
func (t *textResponse) close() {
	if t.gz != nil {
		_ = t.gz.Close()
		gzipWriters.Put(t.gz)
		t.gz = nil
	}
}
