package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Options say what to build.
type Options struct {
	Root, Out       string
	Version, Commit string
	Source          string
	Platforms       []string
}

// The image's fixed parts.
const (
	// User is the non-root user and group the image runs as (distroless' "nonroot").
	User = "65532:65532"
	// Entrypoint is where the binary is in the image.
	Entrypoint = "/imply-operator"
	// versionPackage holds the variables -ldflags -X stamps.
	versionPackage = "github.com/imply-operator/imply-operator/pkg/version"
)

// epoch is the time of every file and of the image's creation, so the same inputs give the same
// digests.
var epoch = time.Unix(0, 0).UTC()

// BinaryName is the file name of the binary for one platform.
func BinaryName(version, platform string) string {
	return fmt.Sprintf("imply-operator-%s-%s", version, strings.ReplaceAll(platform, "/", "-"))
}

// Build writes one static binary per platform into o.Out and an OCI image layout with an image
// per platform into o.Out/oci, tagged o.Version.
func Build(o Options) error {
	if o.Version == "" {
		return errors.New("a version is required")
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return err
	}
	index := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, platform := range o.Platforms {
		goos, goarch, ok := strings.Cut(platform, "/")
		if !ok {
			return fmt.Errorf("platform %q is not os/arch", platform)
		}
		binary := filepath.Join(o.Out, BinaryName(o.Version, platform))
		if err := goBuild(o, goos, goarch, binary); err != nil {
			return err
		}
		img, err := image(o, goos, goarch, binary)
		if err != nil {
			return fmt.Errorf("while building the %s image: %w", platform, err)
		}
		index = mutate.AppendManifests(index, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: goos, Architecture: goarch}},
		})
	}
	dir := filepath.Join(o.Out, "oci")
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("while creating the OCI layout: %w", err)
	}
	return p.AppendIndex(index, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": o.Version}))
}

// goBuild cross-compiles the operator into a static, stripped, path-free binary stamped with the
// version and commit, as `make build` does.
func goBuild(o Options, goos, goarch, out string) error {
	abs, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	ldflags := fmt.Sprintf("-s -w -X %s.version=%s -X %s.commit=%s", versionPackage, o.Version, versionPackage, o.Commit)
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", ldflags, "-o", abs, ".")
	cmd.Dir = o.Root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch, "GOWORK=off")
	if output, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("while building %s/%s: %w\n%s", goos, goarch, err, output)
	}
	return nil
}

// image builds the image of one platform from scratch.
func image(o Options, goos, goarch, binary string) (v1.Image, error) {
	data, err := os.ReadFile(binary)
	if err != nil {
		return nil, err
	}
	layerTar, err := rootFS(data)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.AppendLayers(base, layer)
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = goos, goarch
	cfg.Created = v1.Time{Time: epoch}
	cfg.Config = v1.Config{
		User:       User,
		Entrypoint: []string{Entrypoint},
		WorkingDir: "/",
		Env:        []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		Labels: map[string]string{
			"org.opencontainers.image.title":    "imply-operator",
			"org.opencontainers.image.version":  o.Version,
			"org.opencontainers.image.revision": o.Commit,
			"org.opencontainers.image.source":   o.Source,
			"org.opencontainers.image.licenses": "Apache-2.0",
		},
	}
	return mutate.ConfigFile(img, cfg)
}

// rootFS is the image's only layer: the binary, and the passwd and group files that name the
// non-root user, as distroless/static has them.
func rootFS(binary []byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	files := []struct {
		name string
		mode int64
		data []byte
	}{
		{"etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")},
		{"etc/group", 0o644, []byte("root:x:0:\nnonroot:x:65532:\n")},
		{strings.TrimPrefix(Entrypoint, "/"), 0o755, binary},
	}
	for _, dir := range []string{"etc/", "home/", "home/nonroot/", "tmp/"} {
		hdr := &tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755, ModTime: epoch}
		switch dir {
		case "home/nonroot/":
			hdr.Uid, hdr.Gid, hdr.Mode = 65532, 65532, 0o700
		case "tmp/":
			hdr.Mode = 0o1777
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
	}
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: f.mode, Size: int64(len(f.data)), ModTime: epoch}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
