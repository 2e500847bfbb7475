package specs

import (
	"testing"

	. "github.com/onsi/gomega"
)

func TestLabels(t *testing.T) {
	for _, tc := range []struct {
		name, component, group string
		want                   map[string]string
	}{
		{"node group", "data", "hot", map[string]string{
			"app.kubernetes.io/name": "imply", "app.kubernetes.io/instance": "c",
			"app.kubernetes.io/component": "data", "app.kubernetes.io/managed-by": "imply-operator",
			"imply.operator.dev/cluster": "c", "imply.operator.dev/node-group": "hot",
		}},
		{"manager", ComponentManager, ComponentManager, map[string]string{
			"app.kubernetes.io/name": "imply", "app.kubernetes.io/instance": "c",
			"app.kubernetes.io/component": "manager", "app.kubernetes.io/managed-by": "imply-operator",
			"imply.operator.dev/cluster": "c", "imply.operator.dev/node-group": "manager",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			l := Labels("c", tc.component, tc.group)
			g.Expect(l).To(Equal(tc.want))
			sel := SelectorLabels("c", tc.group)
			g.Expect(sel).To(Equal(map[string]string{
				"app.kubernetes.io/name": "imply", "app.kubernetes.io/instance": "c",
				"imply.operator.dev/node-group": tc.group,
			}))
			for k, v := range sel {
				g.Expect(l).To(HaveKeyWithValue(k, v), "selector labels must be a subset of the labels")
			}
		})
	}
}

func TestRevisionAnnotations(t *testing.T) {
	for _, tc := range []struct {
		name string
		rev  Revisions
		want map[string]string
	}{
		{"none", Revisions{}, nil},
		{"config only", Revisions{Config: "a"}, map[string]string{AnnotationConfigRevision: "a"}},
		{"all", Revisions{Config: "a", TLS: "b", Auth: "c", Restart: "d"}, map[string]string{
			"imply.operator.dev/config-revision": "a",
			"imply.operator.dev/tls-revision":    "b",
			"imply.operator.dev/auth-revision":   "c",
			"imply.operator.dev/restart":         "d",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(revisionAnnotations(tc.rev)).To(Equal(tc.want))
		})
	}
}
