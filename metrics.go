package main

import (
	"crypto/tls"

	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/imply-operator/imply-operator/controllers/implycluster"
	"github.com/imply-operator/imply-operator/internal/exposition"
	"github.com/imply-operator/imply-operator/internal/metricsauth"
)

// metricsOptions configures the metrics endpoint. Secure (the default), it serves HTTPS (TLS 1.2
// or later, HTTP/1.1 unless enableHTTP2) with the certificate in metricsCertDir or a self-signed
// one, and answers only callers whose bearer token the apiserver authenticates and authorizes
// for GET /metrics: 401 without a valid token, 403 without the permission (the metrics-reader
// ClusterRole grants it). The operator itself then needs to create TokenReviews and
// SubjectAccessReviews. Either way /metrics serves the registry's families and then the
// cluster series, written at scrape time rather than gathered (internal/exposition).
func metricsOptions(opts options) metricsserver.Options {
	clusterSeries := exposition.Appending(implycluster.WriteClusterMetrics)
	if !opts.metricsSecure {
		return metricsserver.Options{BindAddress: opts.metricsAddr, FilterProvider: clusterSeries}
	}
	tlsOpts := []func(*tls.Config){func(c *tls.Config) { c.MinVersion = tls.VersionTLS12 }}
	if !opts.enableHTTP2 {
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	return metricsserver.Options{
		BindAddress:    opts.metricsAddr,
		SecureServing:  true,
		FilterProvider: exposition.Chain(metricsauth.Filter, clusterSeries),
		CertDir:        opts.metricsCertDir,
		TLSOpts:        tlsOpts,
	}
}
