package plugin

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestSecretMetadataOnly(t *testing.T) {
	g := NewWithT(t)
	in := metav1.ObjectMeta{
		Name: "s", Labels: map[string]string{"a": "b"},
		Annotations: map[string]string{
			lastAppliedAnnotation:  `{"stringData":{"password":"hunter2"}}`,
			"imply.operator.dev/x": "y",
		},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}},
	}
	out := SecretMetadataOnly(in)
	g.Expect(out.Annotations[lastAppliedAnnotation]).NotTo(ContainSubstring("hunter2"))
	g.Expect(out.Annotations["imply.operator.dev/x"]).To(Equal("y"))
	g.Expect(out.ManagedFields).To(BeNil())
	g.Expect(out.Labels).To(Equal(in.Labels))
	g.Expect(in.Annotations[lastAppliedAnnotation]).To(ContainSubstring("hunter2"), "the input is not modified")
}

func TestFilterLogLines(t *testing.T) {
	g := NewWithT(t)
	log := strings.Join([]string{
		`{"msg":"Reconciling","ImplyCluster":{"name":"demo","namespace":"shop"}}`,
		`{"msg":"Applied","object":"shop/demo-data-tls"}`,
		`{"msg":"Reconciling","ImplyCluster":{"name":"demo2","namespace":"shop"}}`,
		`{"msg":"Reconciling","ImplyCluster":{"name":"demo","namespace":"shopping"}}`,
		`{"msg":"Starting workers"}`,
	}, "\n")
	lines, err := FilterLogLines(strings.NewReader(log), "shop", "demo")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(lines).To(HaveLen(2))
	g.Expect(lines[0]).To(ContainSubstring(`"name":"demo","namespace":"shop"`))
	g.Expect(lines[1]).To(ContainSubstring("demo-data-tls"))
}

func TestWriteArchive(t *testing.T) {
	g := NewWithT(t)
	var buf bytes.Buffer
	g.Expect(WriteArchive(&buf, "top", []ArchiveFile{{Name: "a.txt", Data: []byte("A")}, {Name: "dir/b.yaml", Data: []byte("B")}}, t0)).To(Succeed())
	gz, err := gzip.NewReader(&buf)
	g.Expect(err).NotTo(HaveOccurred())
	tr := tar.NewReader(gz)
	got := map[string]string{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		g.Expect(err).NotTo(HaveOccurred())
		data, _ := io.ReadAll(tr)
		got[h.Name] = string(data)
	}
	g.Expect(got).To(Equal(map[string]string{"top/": "", "top/a.txt": "A", "top/dir/b.yaml": "B"}))
}

func TestExitCode(t *testing.T) {
	g := NewWithT(t)
	g.Expect(ExitCode(nil)).To(Equal(ExitOK))
	g.Expect(ExitCode(errors.New("x"))).To(Equal(ExitError))
	nf := notFoundError{Kind: "ImplyCluster", Namespace: "ns", Name: "gone"}
	g.Expect(nf.Error()).To(Equal(`ImplyCluster "gone" not found in namespace "ns"`))
	g.Expect(ExitCode(nf)).To(Equal(ExitNotFound))
	g.Expect(ExitCode(usagef("bad"))).To(Equal(ExitUsage))
}
