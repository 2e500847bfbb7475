package controllers

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/imply-operator/imply-operator/pkg/version"
)

// buildInfo is always 1; its labels say which build runs, so dashboards can show the version
// and an alert can tell the operator is absent.
var buildInfo = prometheus.NewGaugeVec(prometheus.GaugeOpts{
	Name: "imply_operator_build_info",
	Help: "Always 1: the version, commit and Go version of the running operator.",
}, []string{"version", "commit", "go_version"})

func init() {
	metrics.Registry.MustRegister(buildInfo)
	info := version.Get()
	buildInfo.WithLabelValues(info.Version, info.Commit, info.GoVersion).Set(1)
}
