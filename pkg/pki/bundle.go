package pki

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
)

// BundlePEM concatenates CA certificates as PEM, the content of the ca.crt trust bundle. nil
// entries and duplicates (same DER) are dropped; the order is that of first appearance, so the
// same input always renders the same bytes.
func BundlePEM(cas ...*x509.Certificate) []byte {
	var buf bytes.Buffer
	for _, c := range dedupeCertificates(cas) {
		buf.Write(encodeCertificatePEM(c))
	}
	return buf.Bytes()
}

// ParseBundle parses a PEM bundle of certificates, in order. It fails with ErrMalformed when the
// data has no certificate, a block that is not a CERTIFICATE (a bundle is public and must
// never hold a key) or a certificate that does not parse. Text between blocks is ignored, as in
// the system CA bundles.
func ParseBundle(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != PEMBlockCertificate {
			return nil, inputErrorf(ErrMalformed, "the bundle has a PEM block of type %q; only CERTIFICATE blocks are allowed", truncate(block.Type, 40))
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, inputErrorf(ErrMalformed, "certificate %d of the bundle does not parse: %v", len(certs)+1, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, inputErrorf(ErrMalformed, "the bundle has no certificate")
	}
	return certs, nil
}

// dedupeCertificates drops nil entries and repeated certificates (same DER), keeping the first
// occurrence of each.
func dedupeCertificates(certs []*x509.Certificate) []*x509.Certificate {
	seen := make(map[string]bool, len(certs))
	out := make([]*x509.Certificate, 0, len(certs))
	for _, c := range certs {
		if c == nil || seen[string(c.Raw)] {
			continue
		}
		seen[string(c.Raw)] = true
		out = append(out, c)
	}
	return out
}

// truncate shortens s to at most n bytes, for echoing user input in messages.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
