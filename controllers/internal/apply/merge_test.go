package apply

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testobj"
)

func TestMergeOwnedSpecLeavesCertificateDefaultsAndRevertsHandEdits(t *testing.T) {
	c := testobj.ImplyCluster("c", "ns")
	c.Spec.Security = &implyv1alpha1.SecuritySpec{TLS: &implyv1alpha1.TLSSpec{
		Enabled: true,
		CA:      &implyv1alpha1.CASpec{IssuerRef: &implyv1alpha1.IssuerReference{Name: "corp-issuer", Kind: "ClusterIssuer"}},
		Certificate: implyv1alpha1.CertificateSpec{
			Validity: &metav1.Duration{Duration: 2160 * time.Hour}, RenewBefore: &metav1.Duration{Duration: 720 * time.Hour},
		},
	}}
	desired := specs.BuildCertificate(c, specs.LeafTargets(c)[0])
	live := desired.DeepCopy()
	live.Spec.RevisionHistoryLimit = ptr.To[int32](1)
	if changed, err := mergeOwnedSpec(desired, live); err != nil || changed {
		t.Fatalf("a default added by cert-manager counts as a change (%v, %v)", changed, err)
	}
	live.Spec.DNSNames = append(live.Spec.DNSNames, "evil.example.com")
	if changed, err := mergeOwnedSpec(desired, live); err != nil || !changed {
		t.Fatalf("a DNS name added by hand is not reverted (%v, %v)", changed, err)
	}
	if len(live.Spec.DNSNames) != len(desired.Spec.DNSNames) {
		t.Errorf("DNS names after the merge: %v, want %v", live.Spec.DNSNames, desired.Spec.DNSNames)
	}
}
