package plugin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/yaml"
)

// The krew manifest template names every platform render.sh builds, each with its own archive,
// checksum placeholder and binary, and the plugin name kubectl derives from the binary.
func TestKrewManifest(t *testing.T) {
	g := NewWithT(t)
	data, err := os.ReadFile(filepath.Join("..", "..", "hack", "krew", "imply.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	var m struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name string `json:"name"`
		} `json:"metadata"`
		Spec struct {
			Version          string `json:"version"`
			Homepage         string `json:"homepage"`
			ShortDescription string `json:"shortDescription"`
			Description      string `json:"description"`
			Caveats          string `json:"caveats"`
			Platforms        []struct {
				Selector struct {
					MatchLabels map[string]string `json:"matchLabels"`
				} `json:"selector"`
				URI    string `json:"uri"`
				SHA256 string `json:"sha256"`
				Bin    string `json:"bin"`
			} `json:"platforms"`
		} `json:"spec"`
	}
	g.Expect(yaml.UnmarshalStrict(data, &m)).To(Succeed())
	g.Expect(m.APIVersion).To(Equal("krew.googlecontainertools.github.com/v1alpha2"))
	g.Expect(m.Kind).To(Equal("Plugin"))
	g.Expect(m.Metadata.Name).To(Equal("imply"), "kubectl-imply is `kubectl imply`")
	g.Expect(m.Spec.Version).To(Equal("@VERSION@"))
	g.Expect(m.Spec.ShortDescription).NotTo(BeEmpty())
	seen := map[string]bool{}
	for _, p := range m.Spec.Platforms {
		osArch := p.Selector.MatchLabels["os"] + "_" + p.Selector.MatchLabels["arch"]
		seen[osArch] = true
		g.Expect(p.URI).To(HaveSuffix("/@VERSION@/kubectl-imply_" + osArch + ".tar.gz"))
		g.Expect(p.SHA256).To(Equal("@SHA256_" + osArch + "@"))
		want := "kubectl-imply"
		if strings.HasPrefix(osArch, "windows") {
			want += ".exe"
		}
		g.Expect(p.Bin).To(Equal(want))
	}
	g.Expect(seen).To(HaveLen(5))
}
