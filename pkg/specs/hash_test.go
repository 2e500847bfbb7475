package specs

import (
	"regexp"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func cm(name string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: data}
}

func TestConfigRevision(t *testing.T) {
	base := ConfigRevision(cm("a", map[string]string{"k1": "v1", "k2": "v2"}), cm("b", map[string]string{"x": "y"}))
	NewWithT(t).Expect(base).To(MatchRegexp(`^[0-9a-f]{16}$`))

	for _, tc := range []struct {
		name string
		rev  string
		same bool
	}{
		{"same content", ConfigRevision(cm("a", map[string]string{"k2": "v2", "k1": "v1"}), cm("b", map[string]string{"x": "y"})), true},
		{"argument order does not matter", ConfigRevision(cm("b", map[string]string{"x": "y"}), cm("a", map[string]string{"k1": "v1", "k2": "v2"})), true},
		{"nil skipped", ConfigRevision(nil, cm("a", map[string]string{"k1": "v1", "k2": "v2"}), cm("b", map[string]string{"x": "y"})), true},
		{"labels do not matter", ConfigRevision(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "a", Labels: map[string]string{"l": "v"}},
			Data: map[string]string{"k1": "v1", "k2": "v2"}}, cm("b", map[string]string{"x": "y"})), true},
		{"value changed", ConfigRevision(cm("a", map[string]string{"k1": "v1", "k2": "v3"}), cm("b", map[string]string{"x": "y"})), false},
		{"key renamed", ConfigRevision(cm("a", map[string]string{"k1": "v1", "k3": "v2"}), cm("b", map[string]string{"x": "y"})), false},
		{"boundary moved between key and value", ConfigRevision(cm("a", map[string]string{"k1": "v1", "k2v": "2"}), cm("b", map[string]string{"x": "y"})), false},
		{"content moved to another map", ConfigRevision(cm("a", map[string]string{"k1": "v1", "k2": "v2", "x": "y"}), cm("b", nil)), false},
		{"binaryData counts", ConfigRevision(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "a"}, Data: map[string]string{"k1": "v1", "k2": "v2"},
			BinaryData: map[string][]byte{"bin": {0}}}, cm("b", map[string]string{"x": "y"})), false},
		{"one map fewer", ConfigRevision(cm("a", map[string]string{"k1": "v1", "k2": "v2"})), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.same {
				NewWithT(t).Expect(tc.rev).To(Equal(base))
			} else {
				NewWithT(t).Expect(tc.rev).NotTo(Equal(base))
			}
		})
	}
}

// TestConfigRevisionIsStable pins one value, so an accidental change of the hashing (which would
// roll every cluster on upgrade) fails a test.
func TestConfigRevisionIsStable(t *testing.T) {
	g := NewWithT(t)
	rev := ConfigRevision(cm("c-common-config", map[string]string{"common.runtime.properties": "a=b\n"}))
	g.Expect(regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(rev)).To(BeTrue())
	g.Expect(rev).To(Equal("bfaf2d0367921660"))
	g.Expect(ConfigRevision()).To(HaveLen(16))
}
