// Package release checks that the version a user meets is the same everywhere: VERSION, the
// chart's appVersion and image values, CHANGELOG.md, and `make check-version` (part of make
// verify) refusing any disagreement.
package release

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/imply-operator/imply-operator/test/testenv"
)

// scratchRepo copies the files check-version reads into a scratch repository.
func scratchRepo(t *testing.T) string {
	t.Helper()
	root := testenv.RepoRoot()
	dir := t.TempDir()
	for _, f := range []string{"VERSION", "CHANGELOG.md", "hack/check-version.sh", "charts/imply-operator/Chart.yaml", "charts/imply-operator/values.yaml"} {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func checkVersion(dir string, args ...string) (string, error) {
	out, err := exec.Command(filepath.Join(dir, "hack", "check-version.sh"), args...).CombinedOutput()
	return string(out), err
}

func edit(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%q not in %s", old, path)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

const repository = "ghcr.io/imply-operator/imply-operator"

func TestVersionAgreesEverywhere(t *testing.T) {
	g := NewWithT(t)
	root := testenv.RepoRoot()
	data, err := os.ReadFile(filepath.Join(root, "VERSION"))
	g.Expect(err).NotTo(HaveOccurred())
	version := strings.TrimSpace(string(data))

	out, err := checkVersion(scratchRepo(t), version, repository)
	g.Expect(err).NotTo(HaveOccurred(), out)

	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(makefile)).To(MatchRegexp(`(?m)^verify: .*check-version`), "make verify runs check-version")
	g.Expect(string(makefile)).To(ContainSubstring("IMAGE_REPOSITORY := " + repository))

	for name, breakIt := range map[string]func(dir string) (string, string){
		"a VERSION the chart does not have": func(string) (string, string) { return "9.9.9", "appVersion" },
		"a pinned image tag": func(dir string) (string, string) {
			edit(t, filepath.Join(dir, "charts/imply-operator/values.yaml"), `tag: ""`, `tag: "0.0.9"`)
			return version, "image.tag"
		},
		"another image repository": func(dir string) (string, string) {
			edit(t, filepath.Join(dir, "charts/imply-operator/values.yaml"), "repository: "+repository, "repository: imply-operator")
			return version, "image.repository"
		},
		"no CRD changes in the changelog": func(dir string) (string, string) {
			edit(t, filepath.Join(dir, "CHANGELOG.md"), "### CRD changes", "### Other changes")
			return version, "CRD changes"
		},
	} {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			dir := scratchRepo(t)
			v, why := breakIt(dir)
			out, err := checkVersion(dir, v, repository)
			g.Expect(err).To(HaveOccurred(), out)
			g.Expect(out).To(ContainSubstring(why))
		})
	}
}
