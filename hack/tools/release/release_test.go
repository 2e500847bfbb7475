package main

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// imageFiles reads the files of an image's layers.
func imageFiles(g Gomega, img v1.Image) map[string]*tar.Header {
	layers, err := img.Layers()
	g.Expect(err).NotTo(HaveOccurred())
	files := map[string]*tar.Header{}
	for _, l := range layers {
		mt, err := l.MediaType()
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(mt).To(Equal(types.OCILayer))
		rc, err := l.Uncompressed()
		g.Expect(err).NotTo(HaveOccurred())
		tr := tar.NewReader(rc)
		for {
			hdr, err := tr.Next()
			if err == io.EOF {
				break
			}
			g.Expect(err).NotTo(HaveOccurred())
			files[hdr.Name] = hdr
		}
		g.Expect(rc.Close()).To(Succeed())
	}
	return files
}

// fileOf returns the content of one file of an image.
func fileOf(g Gomega, img v1.Image, name string) []byte {
	layers, err := img.Layers()
	g.Expect(err).NotTo(HaveOccurred())
	for _, l := range layers {
		rc, err := l.Uncompressed()
		g.Expect(err).NotTo(HaveOccurred())
		tr := tar.NewReader(rc)
		for {
			hdr, err := tr.Next()
			if err == io.EOF {
				break
			}
			g.Expect(err).NotTo(HaveOccurred())
			if hdr.Name == name {
				data, err := io.ReadAll(tr)
				g.Expect(err).NotTo(HaveOccurred())
				return data
			}
		}
	}
	g.Expect(name).To(BeEmpty(), "the image has no %s", name)
	return nil
}

// TestReleaseArtifacts builds the release for linux/amd64 and linux/arm64 and inspects it: two
// static binaries of the right machine, and an OCI layout whose index, tagged with the version,
// holds one image per platform that runs the binary as 65532:65532; this machine's binary, taken
// out of its image, prints the stamped version.
func TestReleaseArtifacts(t *testing.T) {
	g := NewWithT(t)
	out := t.TempDir()
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	g.Expect(err).NotTo(HaveOccurred())
	const version, commit = "9.9.9-test", "0123abcd"
	g.Expect(Build(Options{Root: root, Out: out, Version: version, Commit: commit,
		Source: "https://example.com/src", Platforms: []string{"linux/amd64", "linux/arm64"}})).To(Succeed())

	machines := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}
	for arch, machine := range machines {
		f, err := elf.Open(filepath.Join(out, BinaryName(version, "linux/"+arch)))
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(f.Machine).To(Equal(machine), arch)
		for _, p := range f.Progs {
			g.Expect(p.Type).NotTo(Equal(elf.PT_INTERP), "%s is dynamically linked", arch)
		}
		g.Expect(f.Close()).To(Succeed())
	}

	p, err := layout.FromPath(filepath.Join(out, "oci"))
	g.Expect(err).NotTo(HaveOccurred())
	top, err := p.ImageIndex()
	g.Expect(err).NotTo(HaveOccurred())
	topManifest, err := top.IndexManifest()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(topManifest.Manifests).To(HaveLen(1))
	g.Expect(topManifest.Manifests[0].Annotations).To(HaveKeyWithValue("org.opencontainers.image.ref.name", version))
	g.Expect(topManifest.Manifests[0].MediaType).To(Equal(types.OCIImageIndex))
	index, err := top.ImageIndex(topManifest.Manifests[0].Digest)
	g.Expect(err).NotTo(HaveOccurred())
	manifest, err := index.IndexManifest()
	g.Expect(err).NotTo(HaveOccurred())

	var platforms []string
	for _, desc := range manifest.Manifests {
		g.Expect(desc.Platform).NotTo(BeNil())
		platform := desc.Platform.OS + "/" + desc.Platform.Architecture
		platforms = append(platforms, platform)
		g.Expect(desc.MediaType).To(Equal(types.OCIManifestSchema1))
		img, err := index.Image(desc.Digest)
		g.Expect(err).NotTo(HaveOccurred())
		cfg, err := img.ConfigFile()
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(cfg.OS + "/" + cfg.Architecture).To(Equal(platform))
		g.Expect(cfg.Config.User).To(Equal("65532:65532"), platform)
		g.Expect(cfg.Config.Entrypoint).To(Equal([]string{"/imply-operator"}), platform)
		g.Expect(cfg.Config.Labels).To(HaveKeyWithValue("org.opencontainers.image.version", version))
		g.Expect(cfg.Config.Labels).To(HaveKeyWithValue("org.opencontainers.image.revision", commit))

		files := imageFiles(g, img)
		g.Expect(files).To(HaveKey("imply-operator"))
		g.Expect(files["imply-operator"].Mode&0o111).NotTo(BeZero(), "the binary is executable")
		g.Expect(string(fileOf(g, img, "etc/passwd"))).To(ContainSubstring("nonroot:x:65532:65532:"))
		binary := fileOf(g, img, "imply-operator")
		built, err := os.ReadFile(filepath.Join(out, BinaryName(version, platform)))
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(bytes.Equal(binary, built)).To(BeTrue(), "the image holds the released binary of %s", platform)

		if desc.Platform.Architecture == runtime.GOARCH {
			path := filepath.Join(t.TempDir(), "imply-operator")
			g.Expect(os.WriteFile(path, binary, 0o755)).To(Succeed())
			output, err := exec.Command(path, "--version").CombinedOutput()
			g.Expect(err).NotTo(HaveOccurred(), string(output))
			g.Expect(strings.TrimSpace(string(output))).To(Equal("imply-operator " + version + " (commit " + commit + ", " + runtime.Version() + ")"))
		}
	}
	g.Expect(platforms).To(ConsistOf("linux/amd64", "linux/arm64"))
}
