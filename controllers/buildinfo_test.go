package controllers

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/imply-operator/imply-operator/pkg/version"
)

func TestBuildInfoMetric(t *testing.T) {
	g := NewWithT(t)
	info := version.Get()
	expected := `
# HELP imply_operator_build_info Always 1: the version, commit and Go version of the running operator.
# TYPE imply_operator_build_info gauge
imply_operator_build_info{commit="` + info.Commit + `",go_version="` + info.GoVersion + `",version="` + info.Version + `"} 1
`
	g.Expect(testutil.CollectAndCompare(buildInfo, strings.NewReader(expected))).To(Succeed())
}
