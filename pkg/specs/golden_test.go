package specs

import (
	"flag"
	"os"
	"path/filepath"
	"sort"
	"testing"

	. "github.com/onsi/gomega"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ from the builders' output")

// renderedFiles returns every file the ConfigMaps of c carry, keyed by golden-file name:
// <case>_<key>.golden and, unless commonOnly, <case>_<group>_<key>.golden.
func renderedFiles(t *testing.T, name string, c *implyv1alpha1.ImplyCluster, commonOnly bool) map[string]string {
	t.Helper()
	files := map[string]string{}
	common, _ := BuildCommonConfigMap(c, WithLiveCommonConfig(nil)) // a new cluster
	for k, v := range common.Data {
		files[name+"_"+k+".golden"] = v
	}
	if commonOnly {
		return files
	}
	for i := range c.Spec.NodeGroups {
		g := &c.Spec.NodeGroups[i]
		cm, _ := BuildGroupConfigMap(c, g)
		for k, v := range cm.Data {
			files[name+"_"+g.Name+"_"+k+".golden"] = v
		}
	}
	return files
}

// TestGoldenConfig pins the exact text of common.runtime.properties and of every service's
// runtime.properties, jvm.config and Pivot config for two clusters, and of
// common.runtime.properties (the only file basic security changes) for three clusters with
// auth: alone, with TLS, and with TLS and LDAP. Run `go test ./pkg/specs -update` to rewrite
// testdata/ after an intended change, and review the diff.
func TestGoldenConfig(t *testing.T) {
	want := map[string]string{}
	for name, tc := range map[string]struct {
		c          *implyv1alpha1.ImplyCluster
		commonOnly bool
	}{
		"tls-mysql-s3":               {c: goldenTLSCluster()},
		"plaintext-postgresql-local": {c: goldenPlaintextCluster()},
		"auth-only":                  {c: goldenAuthCluster(), commonOnly: true},
		"auth-tls":                   {c: goldenAuthTLSCluster(), commonOnly: true},
		"auth-ldap":                  {c: goldenAuthLDAPCluster(), commonOnly: true},
	} {
		for f, v := range renderedFiles(t, name, tc.c, tc.commonOnly) {
			want[f] = v
		}
	}

	if *update {
		old, _ := filepath.Glob(filepath.Join("testdata", "*.golden"))
		for _, f := range old {
			if err := os.Remove(f); err != nil {
				t.Fatal(err)
			}
		}
		for f, v := range want {
			if err := os.WriteFile(filepath.Join("testdata", f), []byte(v), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}

	names := make([]string, 0, len(want))
	for f := range want {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		t.Run(f, func(t *testing.T) {
			g := NewWithT(t)
			got, err := os.ReadFile(filepath.Join("testdata", f))
			g.Expect(err).NotTo(HaveOccurred(), "missing golden file; run go test ./pkg/specs -update")
			g.Expect(want[f]).To(Equal(string(got)), "rendered %s differs from testdata/%s; run go test ./pkg/specs -update if intended", f, f)
		})
	}

	t.Run("no stale golden files", func(t *testing.T) {
		g := NewWithT(t)
		onDisk, err := filepath.Glob(filepath.Join("testdata", "*.golden"))
		g.Expect(err).NotTo(HaveOccurred())
		for _, f := range onDisk {
			g.Expect(want).To(HaveKey(filepath.Base(f)), "testdata/%s is rendered by no test", filepath.Base(f))
		}
	})
}
