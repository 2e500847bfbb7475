package implycluster

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// Labels every metric of a cluster carries.
const (
	labelNamespace = "namespace"
	labelCluster   = "cluster"
)

// certificateExpiry is the notAfter of every live certificate, per Secret, so an alert can fire
// well before a certificate lapses.
var certificateExpiry = prometheus.NewGaugeVec(prometheus.GaugeOpts{
	Name: "imply_operator_certificate_expiry_timestamp_seconds",
	Help: "Expiry (notAfter) of each certificate the operator keeps, as a Unix timestamp.",
}, []string{labelNamespace, labelCluster, "secret"})

func init() {
	metrics.Registry.MustRegister(certificateExpiry)
}

// recordCertificateExpiry publishes the expiry of c's certificates, replacing what was
// published before for c.
func recordCertificateExpiry(c *implyv1alpha1.ImplyCluster, certs []implyv1alpha1.CertificateStatus) {
	forgetCertificateExpiry(c.Namespace, c.Name)
	for _, cert := range certs {
		if cert.NotAfter != nil {
			certificateExpiry.WithLabelValues(c.Namespace, c.Name, cert.SecretName).Set(float64(cert.NotAfter.Unix()))
		}
	}
}

// forgetCertificateExpiry drops the series of a cluster that is gone or has no certificates.
func forgetCertificateExpiry(namespace, cluster string) {
	certificateExpiry.DeletePartialMatch(prometheus.Labels{labelNamespace: namespace, labelCluster: cluster})
}
