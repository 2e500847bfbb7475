package plugin

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/imply-operator/imply-operator/pkg/specs"
)

func newCACommand(o *Options) *cobra.Command {
	var format, file, password string
	cmd := &cobra.Command{
		Use:   "ca CLUSTER",
		Short: "Export the cluster's CA bundle for browsers and clients, with trust instructions on stderr",
		Long: `Export the CA bundle (ConfigMap <cluster>-ca-bundle: every CA the cluster trusts, public
certificates only) as PEM, DER or a PKCS#12 trust store, to stdout or a file. How to trust it on
macOS, Windows and Linux is printed to stderr.`,
		Example: `  kubectl imply ca demo -o ca.crt
  kubectl imply ca demo --format p12 -o truststore.p12 --password changeit`,
		Args: oneArg("the name of an ImplyCluster"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ic, err := o.cluster(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if !tlsEnabled(ic) {
				return fmt.Errorf("ImplyCluster %s/%s runs without TLS (spec.security.tls.enabled: false): it has no CA", ic.Namespace, ic.Name)
			}
			var bundle corev1.ConfigMap
			if err := c.Get(cmd.Context(), client.ObjectKey{Namespace: ic.Namespace, Name: specs.CABundleName(ic.Name)}, &bundle); err != nil {
				return notFoundOr(err, "ConfigMap", ic.Namespace, specs.CABundleName(ic.Name))
			}
			data, notes, err := EncodeCABundle([]byte(bundle.Data[specs.TLSCAKey]), format, password)
			if err != nil {
				return err
			}
			if file == "" || file == "-" {
				if _, err := o.out().Write(data); err != nil {
					return err
				}
			} else {
				if err := os.WriteFile(file, data, 0o644); err != nil {
					return fmt.Errorf("while writing %s: %w", file, err)
				}
				fmt.Fprintf(o.errOut(), "Wrote the CA bundle of %s/%s to %s (%s).\n", ic.Namespace, ic.Name, file, format)
			}
			for _, n := range notes {
				fmt.Fprintln(o.errOut(), n)
			}
			fmt.Fprint(o.errOut(), TrustInstructions(file, format))
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", FormatPEM, "pem (every trusted CA), der (the signing CA) or p12 (PKCS#12 trust store)")
	cmd.Flags().StringVarP(&file, "output", "o", "", "Write to this file instead of stdout")
	cmd.Flags().StringVar(&password, "password", DefaultP12Password, "Password of the PKCS#12 trust store (--format p12)")
	return cmd
}
