package plugin

import (
	"crypto/x509"
	"fmt"
	"strings"

	"github.com/imply-operator/imply-operator/pkg/pki"
)

// CA export formats.
const (
	FormatPEM = "pem"
	FormatDER = "der"
	FormatP12 = "p12"
)

// DefaultP12Password is the password of an exported PKCS#12 trust store unless --password says
// otherwise: Java's customary trust-store password. The file holds only public CA certificates.
const DefaultP12Password = "changeit"

// EncodeCABundle turns the CA bundle's PEM into format: pem (every CA, as the bundle holds them),
// der (the first, signing, CA only: DER holds one certificate) or p12 (a PKCS#12 trust store of
// every CA, under password). notes are things to tell the user on stderr.
func EncodeCABundle(bundlePEM []byte, format, password string) (data []byte, notes []string, err error) {
	certs, err := pki.ParseBundle(bundlePEM)
	if err != nil {
		return nil, nil, fmt.Errorf("while reading the CA bundle: %w", err)
	}
	if len(certs) == 0 {
		return nil, nil, fmt.Errorf("the CA bundle holds no certificate")
	}
	if len(certs) > 1 {
		notes = append(notes, fmt.Sprintf("The bundle trusts %d CAs (a CA rotation is in progress or the CA changed): %s.",
			len(certs), subjects(certs)))
	}
	switch format {
	case FormatPEM, "":
		return pki.BundlePEM(certs...), notes, nil
	case FormatDER:
		if len(certs) > 1 {
			notes = append(notes, "DER holds one certificate: only the first (signing) CA is written; use --format pem or p12 for all of them.")
		}
		return certs[0].Raw, notes, nil
	case FormatP12:
		data, err := pki.TruststoreWithChosenPassword(certs, password)
		if err != nil {
			return nil, nil, fmt.Errorf("while building the PKCS#12 trust store: %w", err)
		}
		return data, notes, nil
	default:
		return nil, nil, usagef("--format must be pem, der or p12, got %q", format)
	}
}

func subjects(certs []*x509.Certificate) string {
	names := make([]string, 0, len(certs))
	for _, c := range certs {
		names = append(names, c.Subject.CommonName+" (until "+c.NotAfter.UTC().Format("2006-01-02")+")")
	}
	return strings.Join(names, ", ")
}

// TrustInstructions tells how to make browsers and clients trust the exported CA at path, per
// operating system, after the Imply Manager security guide's "Trusting your CA", in our words.
func TrustInstructions(path, format string) string {
	if path == "" {
		path = "ca.crt"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Trusting this CA: browsers and clients validate the cluster's https endpoints once they trust %s.\n", path)
	b.WriteString("  macOS: open the file (double-click it); Keychain Access adds it, then mark it \"Always Trust\"\n")
	fmt.Fprintf(&b, "    (or: sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain %s).\n", path)
	b.WriteString("  Windows: right-click the file, Install Certificate; choose Local Machine, place it in\n")
	b.WriteString("    \"Trusted Root Certification Authorities\", review and finish, then restart the browser.\n")
	b.WriteString("    Managed fleets can push the certificate with a Group Policy instead.\n")
	b.WriteString("  Linux: Debian/Ubuntu: copy it to /usr/local/share/ca-certificates/<name>.crt and run update-ca-certificates;\n")
	b.WriteString("    RHEL/Fedora: copy it to /etc/pki/ca-trust/source/anchors/ and run update-ca-trust. Firefox keeps its own store\n")
	b.WriteString("    (Settings, Certificates, Import).\n")
	switch format {
	case FormatP12:
		fmt.Fprintf(&b, "  Java: the PKCS#12 file is a trust store: -Djavax.net.ssl.trustStore=%s -Djavax.net.ssl.trustStoreType=PKCS12.\n", path)
	default:
		fmt.Fprintf(&b, "  curl and most CLIs: --cacert %s (PEM).\n", path)
	}
	b.WriteString("Imply serves every UI and API over TLS 1.2 or newer; older clients cannot connect.\n")
	return b.String()
}
