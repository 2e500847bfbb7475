package exposition

import (
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"k8s.io/client-go/rest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// appendedFamily is what the tests' Writer writes: a family of two series, one label value
// needing escapes.
const appendedFamily = `# HELP appended_seconds A family no registry holds.
# TYPE appended_seconds gauge
appended_seconds{name="a"} 1
appended_seconds{name="quote\"back\\slash"} 2
`

// serve builds the filter of provider around handler and serves one GET of path to it.
func serve(t *testing.T, provider FilterProvider, handler http.Handler, path string, header http.Header) *http.Response {
	t.Helper()
	filter, err := provider(&rest.Config{}, http.DefaultClient)
	if err != nil {
		t.Fatal(err)
	}
	h, err := filter(logr.Discard(), handler)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

// parse reads a text exposition with Prometheus' parser, which refuses a family twice.
func parse(g Gomega, body io.Reader) map[string]*dto.MetricFamily {
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(body)
	g.Expect(err).NotTo(HaveOccurred())
	return families
}

// registryHandler is the handler controller-runtime serves at /metrics, over a registry with one counter.
func registryHandler() http.Handler {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "registered_total", Help: "A registered counter."})
	c.Add(3)
	reg.MustRegister(c)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError})
}

func appendFamily(w io.Writer) error {
	_, err := io.WriteString(w, appendedFamily)
	return err
}

func TestAppendingServesTheRegistryAndThenTheWrittenFamilies(t *testing.T) {
	for _, tc := range []struct {
		name   string
		accept string
		gzip   bool
	}{
		{name: "a Prometheus asking for OpenMetrics or protobuf, compressed",
			accept: "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3", gzip: true},
		{name: "a client asking for nothing in particular", accept: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			header := http.Header{"Accept": {tc.accept}}
			if tc.gzip {
				header.Set("Accept-Encoding", "deflate, gzip;q=0.9")
			}
			resp := serve(t, Appending(appendFamily), registryHandler(), Path, header)
			g.Expect(resp.StatusCode).To(Equal(http.StatusOK))
			g.Expect(resp.Header.Get("Content-Type")).To(Equal(textFormat))
			body := resp.Body
			if tc.gzip {
				g.Expect(resp.Header.Get("Content-Encoding")).To(Equal("gzip"))
				gz, err := gzip.NewReader(resp.Body)
				g.Expect(err).NotTo(HaveOccurred())
				body = gz
			} else {
				g.Expect(resp.Header.Get("Content-Encoding")).To(BeEmpty())
			}
			families := parse(g, body)
			g.Expect(families).To(HaveKey("registered_total"))
			g.Expect(families["registered_total"].GetMetric()[0].GetCounter().GetValue()).To(Equal(3.0))
			g.Expect(families).To(HaveKey("appended_seconds"))
			var values []string
			for _, m := range families["appended_seconds"].GetMetric() {
				values = append(values, fmt.Sprintf("%s=%v", m.GetLabel()[0].GetValue(), m.GetGauge().GetValue()))
			}
			g.Expect(values).To(ConsistOf(`a=1`, `quote"back\slash=2`))
		})
	}
}

func TestAppendingPassesOnAFailedGatherAlone(t *testing.T) {
	g := NewWithT(t)
	failing := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "gather failed", http.StatusInternalServerError)
	})
	resp := serve(t, Appending(appendFamily), failing, Path, http.Header{"Accept-Encoding": {"gzip"}})
	g.Expect(resp.StatusCode).To(Equal(http.StatusInternalServerError))
	g.Expect(resp.Header.Get("Content-Encoding")).To(BeEmpty())
	body, _ := io.ReadAll(resp.Body)
	g.Expect(string(body)).To(Equal("gather failed\n"))
}

func TestAppendingLeavesOtherPathsAlone(t *testing.T) {
	g := NewWithT(t)
	other := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"accept":"`+r.Header.Get("Accept")+`"}`)
	})
	resp := serve(t, Appending(appendFamily), other, "/debug/extra", http.Header{"Accept": {"application/json"}, "Accept-Encoding": {"gzip"}})
	g.Expect(resp.StatusCode).To(Equal(http.StatusOK))
	g.Expect(resp.Header.Get("Content-Type")).To(Equal("application/json"))
	body, _ := io.ReadAll(resp.Body)
	g.Expect(string(body)).To(Equal(`{"accept":"application/json"}`))
}

func TestAppendingReportsAWriterThatFails(t *testing.T) {
	g := NewWithT(t)
	failing := func(w io.Writer) error {
		_, _ = io.WriteString(w, "# HELP half")
		return fmt.Errorf("the snapshots are gone")
	}
	var logged []string
	log := logr.New(&recordingSink{messages: &logged})
	filter, err := Appending(failing)(&rest.Config{}, http.DefaultClient)
	g.Expect(err).NotTo(HaveOccurred())
	h, err := filter(log, registryHandler())
	g.Expect(err).NotTo(HaveOccurred())
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, Path, nil))
	g.Expect(logged).To(ConsistOf(ContainSubstring("the snapshots are gone")))
	g.Expect(rec.Body.String()).NotTo(ContainSubstring("# HELP half"), "what a failed writer left in the buffer is not sent")
}

func TestChainPutsTheFirstFilterOutermost(t *testing.T) {
	g := NewWithT(t)
	var order []string
	tagging := func(tag string) FilterProvider {
		return func(*rest.Config, *http.Client) (metricsserver.Filter, error) {
			return func(_ logr.Logger, next http.Handler) (http.Handler, error) {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					order = append(order, tag)
					next.ServeHTTP(w, r)
				}), nil
			}, nil
		}
	}
	resp := serve(t, Chain(tagging("auth"), tagging("exposition")), registryHandler(), Path, nil)
	g.Expect(resp.StatusCode).To(Equal(http.StatusOK))
	g.Expect(order).To(Equal([]string{"auth", "exposition"}))

	refusing := func(*rest.Config, *http.Client) (metricsserver.Filter, error) { return nil, fmt.Errorf("no apiserver") }
	_, err := Chain(tagging("auth"), refusing)(&rest.Config{}, http.DefaultClient)
	g.Expect(err).To(MatchError("no apiserver"))
}

// recordingSink is a logr sink that keeps the errors logged.
type recordingSink struct {
	logr.LogSink
	messages *[]string
}

func (s *recordingSink) Init(logr.RuntimeInfo)          {}
func (s *recordingSink) Enabled(int) bool               { return false }
func (s *recordingSink) WithValues(...any) logr.LogSink { return s }
func (s *recordingSink) Error(err error, msg string, _ ...any) {
	*s.messages = append(*s.messages, msg+": "+err.Error())
}
