package cache

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/imply-operator/imply-operator/pkg/specs"
)

func TestDigestConfigValuesKeepsTheCABundle(t *testing.T) {
	labels := specs.Labels("c", specs.ComponentCommon, specs.ComponentCommon)
	rendered := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c-common-config", Labels: labels},
		Data: map[string]string{"common.runtime.properties": "druid.a=b\n"}}
	bundle := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c-ca-bundle", Labels: labels},
		Data: map[string]string{"ca.crt": "PEM"}}
	theirs := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "theirs"}, Data: map[string]string{"k": "v"}}
	for _, cm := range []*corev1.ConfigMap{rendered, bundle, theirs} {
		if _, err := digestConfigValues(cm); err != nil {
			t.Fatal(err)
		}
	}
	if got := rendered.Data["common.runtime.properties"]; got != CachedDigest("druid.a=b\n") {
		t.Errorf("rendered value cached as %q", got)
	}
	if _, err := digestConfigValues(rendered); err != nil {
		t.Fatal(err)
	}
	if got := rendered.Data["common.runtime.properties"]; got != CachedDigest("druid.a=b\n") {
		t.Errorf("transformed twice, the value is cached as %q: client-go may transform an object twice", got)
	}
	if bundle.Data["ca.crt"] != "PEM" || theirs.Data["k"] != "v" {
		t.Errorf("the CA bundle or a ConfigMap not the operator's changed: %v %v", bundle.Data, theirs.Data)
	}
}

func TestConfigDataMatchesValuesAndTheirDigests(t *testing.T) {
	desired := map[string]string{"a": "1", "b": "2"}
	for _, tc := range []struct {
		live map[string]string
		want bool
	}{
		{map[string]string{"a": "1", "b": "2"}, true},
		{map[string]string{"a": CachedDigest("1"), "b": CachedDigest("2")}, true},
		{map[string]string{"a": CachedDigest("1"), "b": CachedDigest("3")}, false},
		{map[string]string{"a": CachedDigest("1")}, false},
		{map[string]string{"a": CachedDigest("1"), "b": CachedDigest("2"), "extra": CachedDigest("x")}, false},
		{map[string]string{"a": "1", "c": "2"}, false},
	} {
		if got := ConfigDataMatches(desired, tc.live); got != tc.want {
			t.Errorf("ConfigDataMatches(%v, %v) = %v, want %v", desired, tc.live, got, tc.want)
		}
	}
	if !ConfigDataMatches(nil, map[string]string{}) {
		t.Error("no data and empty data differ")
	}
}
