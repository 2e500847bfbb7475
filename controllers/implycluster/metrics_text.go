package implycluster

import (
	"bufio"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// clusterDesc is a cluster metric: its name, help and label names (namespace, cluster and the
// metric's own), and the descriptor that reserves the name in the operator's registry.
type clusterDesc struct {
	*prometheus.Desc
	name, help string
	labels     []string
	// sorted are the indexes of labels in the order of their names, the order a series' labels
	// are written in.
	sorted []int
}

// newClusterDesc describes the cluster metric name with the labels namespace, cluster and extra.
func newClusterDesc(name, help string, extra ...string) *clusterDesc {
	labels := append([]string{labelNamespace, labelCluster}, extra...)
	sorted := make([]int, len(labels))
	for i := range sorted {
		sorted[i] = i
	}
	slices.SortFunc(sorted, func(a, b int) int { return strings.Compare(labels[a], labels[b]) })
	return &clusterDesc{Desc: prometheus.NewDesc(name, help, labels, nil), name: name, help: help, labels: labels, sorted: sorted}
}

// textWriter writes the families of the cluster metrics in the Prometheus text format, one
// series at a time: it allocates nothing a series. A failed write is kept by the buffer and
// reported by its Flush, so the writes below do not check it one by one.
type textWriter struct {
	w   *bufio.Writer
	num []byte
}

func (t *textWriter) str(s string) { _, _ = t.w.WriteString(s) }
func (t *textWriter) char(c byte)  { _ = t.w.WriteByte(c) }

// family writes the HELP and TYPE lines of d.
func (t *textWriter) family(d *clusterDesc) {
	t.str("# HELP ")
	t.str(d.name)
	t.char(' ')
	t.escaped(d.help, false)
	t.str("\n# TYPE ")
	t.str(d.name)
	t.str(" gauge\n")
}

// series writes one series of d: its labels namespace, cluster, a and b (as many as d has) and value.
func (t *textWriter) series(d *clusterDesc, namespace, cluster, a, b string, value float64) {
	values := [4]string{namespace, cluster, a, b} // in d.labels' order
	t.str(d.name)
	for n, i := range d.sorted {
		if n == 0 {
			t.char('{')
		} else {
			t.char(',')
		}
		t.str(d.labels[i])
		t.str(`="`)
		t.escaped(values[i], true)
		t.char('"')
	}
	t.str("} ")
	t.num = strconv.AppendFloat(t.num[:0], value, 'g', -1, 64)
	_, _ = t.w.Write(t.num)
	t.char('\n')
}

// escaped writes s escaped as the text format wants a label value (backslash, double quote and
// newline) or a help text (backslash and newline).
func (t *textWriter) escaped(s string, quote bool) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			t.str(`\\`)
		case c == '\n':
			t.str(`\n`)
		case c == '"' && quote:
			t.str(`\"`)
		default:
			t.char(c)
		}
	}
}

// writeClusterFamilies writes the families of descs, each with the series every cluster of
// clusters has of it; a family without series is left out, as a registry leaves it out.
func writeClusterFamilies(out io.Writer, descs []*clusterDesc, clusters []clusterEntry) error {
	t := &textWriter{w: bufio.NewWriterSize(out, 16<<10), num: make([]byte, 0, 32)}
	for _, d := range descs {
		started := false
		for i := range clusters {
			e := &clusters[i]
			eachSeries(&e.snap, func(sd *clusterDesc, value float64, a, b string) {
				if sd != d {
					return
				}
				if !started {
					t.family(d)
					started = true
				}
				t.series(d, e.key.Namespace, e.key.Name, a, b, value)
			})
		}
	}
	return t.w.Flush()
}

// eachSeries sends every series of one cluster's snapshot: its metric, value and the values
// of the metric's own labels (at most two; unused ones are empty).
func eachSeries(s *clusterSnapshot, send func(d *clusterDesc, value float64, a, b string)) {
	for _, c := range s.conditions {
		send(conditionSinceDesc, float64(c.since), c.conditionType, "")
		for _, status := range conditionStatuses {
			send(clusterConditionDesc, oneIf(c.status == status), c.conditionType, string(status))
		}
	}
	for _, t := range s.certExpiry {
		send(certificateExpiryDesc, float64(t.unix), t.name, "")
	}
	for _, t := range s.certRenewal {
		send(certificateRenewalDesc, float64(t.unix), t.name, "")
	}
	for _, t := range s.caExpiry {
		send(caExpiryDesc, float64(t.unix), t.name, "")
	}
	for _, p := range rolloutPhases {
		send(rolloutPhaseDesc, oneIf(s.phase == p), string(p), "")
	}
	send(rolloutHaltedDesc, oneIf(s.halted), "", "")
	if s.hasNextWindow {
		send(rolloutNextWindowDesc, float64(s.nextWindow), "", "")
	}
}

// oneIf is 1 when b holds, else 0.
func oneIf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
