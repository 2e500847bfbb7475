package metadatastore

import (
	"crypto/x509"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/pki"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testenv"
)

const (
	// dbUser is the database user: the credentials Secret's username and the client CN.
	dbUser     = "druid"
	dbPassword = "metadata-store-password-1"
	// goodHost is the name in the servers' certificates; wrongHost reaches the same servers by
	// an address the certificates do not name.
	goodHost  = "localhost"
	wrongHost = "127.0.0.1"
	// Queries that return the user and the TLS version of the probe's own connection.
	pgQuery    = "SELECT current_user, (SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid())"
	mysqlQuery = "SELECT CURRENT_USER(), (SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_version')"
)

var (
	clk = clock.RealClock{}
	// clusterCA is the ImplyCluster's CA: it issues generated client certificates, and the
	// servers trust it for client certificates. storeCA signed the servers' certificates
	// (a database's own CA, given through tls.caSecretRef). rogueCA has the cluster CA's name
	// but another key.
	clusterCA, storeCA, rogueCA *pki.KeyPair
	postgres, mariadb           *server
	jdbc                        *probe
)

func TestMain(m *testing.M) {
	code, err := setUp(m)
	if err != nil {
		fmt.Fprintf(os.Stderr, "metadatastore: %v\n", err)
		os.Exit(1)
	}
	os.Exit(code)
}

// setUp checks and fetches what the tests need (failing, never skipping, when something is
// missing), makes the CAs, starts both servers, runs the tests and stops the servers.
func setUp(m *testing.M) (int, error) {
	script := filepath.Join(testenv.RepoRoot(), "hack", "metadatastore", "drivers.sh")
	for _, step := range []string{"check", "fetch"} {
		if err := run(exec.Command(script, step)); err != nil {
			return 0, err
		}
	}
	out, err := exec.Command(script, "dir").Output()
	if err != nil {
		return 0, fmt.Errorf("drivers.sh dir: %w", err)
	}
	drivers, err := filepath.Glob(filepath.Join(strings.TrimSpace(string(out)), "*.jar"))
	if err != nil || len(drivers) != 2 {
		return 0, fmt.Errorf("want the two JDBC driver jars in %s, found %v (%v)", strings.TrimSpace(string(out)), drivers, err)
	}

	base, err := os.MkdirTemp("", "metadatastore-")
	if err != nil {
		return 0, err
	}
	defer func() { _ = os.RemoveAll(base) }()
	if err := os.Chmod(base, 0o755); err != nil { // the servers may run as nobody
		return 0, err
	}

	for _, ca := range []struct {
		kp   **pki.KeyPair
		name string
	}{{&clusterCA, "c-ca"}, {&storeCA, "store-ca"}, {&rogueCA, "c-ca"}} {
		if *ca.kp, err = pki.CreateRootCA(clk, ca.name, pki.DefaultKeyAlgorithm, 24*time.Hour); err != nil {
			return 0, err
		}
	}
	serverLeaf, err := storeCA.SignLeaf(clk, pki.LeafRequest{CommonName: goodHost, DNSNames: []string{goodHost}, Validity: 24 * time.Hour})
	if err != nil {
		return 0, err
	}
	serverFiles := serverTLS{CertPEM: serverLeaf.CertPEM, KeyPEM: serverLeaf.KeyPEM, ClientCAPEM: clusterCA.CertPEM}

	if postgres, err = startPostgres(filepath.Join(base, "postgres"), dbUser, dbPassword, serverFiles); err != nil {
		return 0, err
	}
	defer postgres.Stop()
	if mariadb, err = startMariaDB(filepath.Join(base, "mariadb"), dbUser, dbPassword, "druid", serverFiles); err != nil {
		return 0, err
	}
	defer mariadb.Stop()
	if err := os.MkdirAll(filepath.Join(base, "probe"), 0o755); err != nil {
		return 0, err
	}
	if jdbc, err = compileProbe(filepath.Join(base, "probe"), drivers); err != nil {
		return 0, err
	}
	return m.Run(), nil
}

// storeCase is one way of connecting Druid to one of the servers.
type storeCase struct {
	name string
	host string
	tls  *implyv1alpha1.MetadataStoreTLSSpec
	// userClientCert is the user's client-certificate Secret data, for clientCertificate.secretRef.
	userClientCert map[string][]byte
	// editProperties changes the rendered common.runtime.properties before connecting (to show
	// what a setting is for).
	editProperties func(string) string
	// wantOK says whether the connection must succeed; wantOutput is in the probe's output.
	wantOK     bool
	wantOutput string
	// wantServerLog, when set, must appear in what the server logged during the connection.
	wantServerLog string
	// noClusterTLS runs the cluster without TLS (no cluster CA bundle); jvmTrustsStoreCA makes
	// the store CA one of the JVM's system roots (its default trust store), as a public CA is.
	noClusterTLS, jvmTrustsStoreCA bool
}

// caSecretName holds the store CA, as a user would give it in tls.caSecretRef.
const caSecretName = "store-ca"

var (
	withStoreCA  = &implyv1alpha1.SecretKeySelector{Name: caSecretName}
	generateCert = &implyv1alpha1.ClientCertificateSpec{Generate: true}
	userCertRef  = &implyv1alpha1.ClientCertificateSpec{SecretRef: &implyv1alpha1.LocalObjectReference{Name: "user-client-cert"}}
)

// userClientCert is a kubernetes.io/tls Secret's data with a client certificate for dbUser
// signed by ca, as a user would bring (its own key, PKCS#8 PEM, the issuer in ca.crt).
func userClientCert(t *testing.T, ca *pki.KeyPair) map[string][]byte {
	t.Helper()
	leaf, err := ca.SignLeaf(clk, pki.ClientLeafRequest(dbUser, implyv1alpha1.KeyAlgorithmRSA2048, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{"tls.crt": leaf.CertPEM, "tls.key": leaf.KeyPEM, "ca.crt": ca.CertPEM}
}

// cases are the scenarios run against both servers; errors differ by driver, so the expected
// output of a failure is given per server by the test.
func cases(t *testing.T) []storeCase {
	return []storeCase{
		{name: "generated client certificate, store CA from caSecretRef", host: goodHost,
			tls: &implyv1alpha1.MetadataStoreTLSSpec{CASecretRef: withStoreCA, ClientCertificate: generateCert}, wantOK: true},
		{name: "user client certificate from secretRef", host: goodHost,
			tls:            &implyv1alpha1.MetadataStoreTLSSpec{CASecretRef: withStoreCA, ClientCertificate: userCertRef},
			userClientCert: userClientCert(t, clusterCA), wantOK: true},
		{name: "client certificate of another CA is refused", host: goodHost,
			tls:            &implyv1alpha1.MetadataStoreTLSSpec{CASecretRef: withStoreCA, ClientCertificate: userCertRef},
			userClientCert: userClientCert(t, rogueCA)},
		{name: "no client certificate is refused", host: goodHost,
			tls: &implyv1alpha1.MetadataStoreTLSSpec{CASecretRef: withStoreCA}},
		{name: "wrong server name is refused", host: wrongHost,
			tls: &implyv1alpha1.MetadataStoreTLSSpec{CASecretRef: withStoreCA, ClientCertificate: generateCert}},
		{name: "server certificate of an untrusted CA is refused (the default trust is the cluster's CA bundle)", host: goodHost,
			tls: &implyv1alpha1.MetadataStoreTLSSpec{ClientCertificate: generateCert}},
		// tls.enabled: false renders no SSL properties: MySQL Connector/J then connects in
		// plaintext (useSSL=false), pgjdbc with its default sslmode=prefer (encrypted when the
		// server offers it, never verified); neither sends a client certificate.
		{name: "plaintext is refused by a server that requires TLS", host: goodHost,
			tls: &implyv1alpha1.MetadataStoreTLSSpec{Enabled: ptr.To(false)}},
	}
}

func TestPostgreSQL(t *testing.T) {
	refusals := map[string]string{
		"client certificate of another CA is refused": "SSL error",
		"no client certificate is refused":            "connection requires a valid client certificate",
		"wrong server name is refused":                "The hostname 127.0.0.1 could not be verified by hostnameverifier",
		"server certificate of an untrusted CA is refused (the default trust is the cluster's CA bundle)": "unable to find valid certification path",
		"plaintext is refused by a server that requires TLS":                                              "connection requires a valid client certificate",
	}
	for _, tc := range cases(t) {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.wantOK {
				tc.wantOutput = refusals[tc.name]
			} else {
				tc.wantOutput = "OK " + dbUser + " TLSv1.3"
			}
			if tc.name == "client certificate of another CA is refused" {
				tc.wantServerLog = "could not accept SSL connection: certificate verify failed"
			}
			connectCase(t, implyv1alpha1.MetadataStorePostgreSQL, postgres, pgQuery, tc)
		})
	}
}

func TestMariaDB(t *testing.T) {
	refusals := map[string]string{
		"client certificate of another CA is refused": "Communications link failure",
		"no client certificate is refused":            "Access denied for user 'druid'",
		"wrong server name is refused":                "Server identity verification failed",
		"server certificate of an untrusted CA is refused (the default trust is the cluster's CA bundle)": "Path does not chain with any of the trust anchors",
		"plaintext is refused by a server that requires TLS":                                              "Access denied for user 'druid'",
		"no cluster CA: a server the system roots do not trust is refused":                                "Path does not chain with any of the trust anchors",
	}
	all := append(cases(t), storeCase{
		// A cluster without TLS and no caSecretRef: the server is verified against the JVM's
		// system roots (Connector/J falls back to the JVM's trust store); the user's client
		// certificate still authenticates. The store CA stands in for a public CA here.
		name: "no cluster CA: verified against the JVM's system roots", host: goodHost, noClusterTLS: true, jvmTrustsStoreCA: true,
		tls:            &implyv1alpha1.MetadataStoreTLSSpec{ClientCertificate: userCertRef},
		userClientCert: userClientCert(t, clusterCA), wantOK: true,
	}, storeCase{
		name: "no cluster CA: a server the system roots do not trust is refused", host: goodHost, noClusterTLS: true,
		tls:            &implyv1alpha1.MetadataStoreTLSSpec{ClientCertificate: userCertRef},
		userClientCert: userClientCert(t, clusterCA),
	}, storeCase{
		// Druid's verifyServerCertificate=true alone is Connector/J's sslMode=VERIFY_CA: the
		// chain is checked, the host name is not. This is why the operator's connect URI adds
		// sslMode=VERIFY_IDENTITY; without it the wrong name gets through.
		name: "without the URI's sslMode=VERIFY_IDENTITY a wrong server name is not noticed", host: wrongHost,
		tls:            &implyv1alpha1.MetadataStoreTLSSpec{CASecretRef: withStoreCA, ClientCertificate: generateCert},
		editProperties: func(p string) string { return strings.Replace(p, `?sslMode\=VERIFY_IDENTITY`, "", 1) },
		wantOK:         true,
	})
	for _, tc := range all {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.wantOK {
				tc.wantOutput = refusals[tc.name]
			} else {
				tc.wantOutput = "OK " + dbUser + "@% TLSv1.3"
			}
			connectCase(t, implyv1alpha1.MetadataStoreMySQL, mariadb, mysqlQuery, tc)
		})
	}
}

// connectCase builds what the operator would for tc, rebuilds the files and environment of a
// master pod from the StatefulSet, connects with the real driver as Druid would, and checks
// the outcome.
func connectCase(t *testing.T, typ implyv1alpha1.MetadataStoreType, srv *server, query string, tc storeCase) {
	t.Helper()
	if tc.wantOutput == "" {
		t.Fatalf("no expected output for %q", tc.name)
	}
	c := cluster(typ, tc.host, srv.Port, tc.tls)
	c.Spec.Security.TLS.Enabled = !tc.noClusterTLS
	objs := operatorObjects(t, c, tc.userClientCert)
	g := &c.Spec.NodeGroups[0]
	pod := specs.BuildStatefulSet(c, g, specs.Revisions{}).Spec.Template.Spec

	root := t.TempDir()
	if err := rebuildPodFiles(&pod, objs, root); err != nil {
		t.Fatal(err)
	}
	env, err := podEnv(&pod, objs)
	if err != nil {
		t.Fatal(err)
	}
	propsFile := filepath.Join(root, specs.CommonConfigMountPath, specs.CommonRuntimePropertiesKey)
	if tc.editProperties != nil {
		b, err := os.ReadFile(propsFile)
		if err != nil {
			t.Fatal(err)
		}
		edited := tc.editProperties(string(b))
		if edited == string(b) {
			t.Fatal("editProperties changed nothing")
		}
		if err := os.WriteFile(propsFile, []byte(edited), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var jvmArgs []string
	if tc.jvmTrustsStoreCA {
		jvmArgs = jvmTrustStore(t, storeCA)
	}
	logBefore := len(srv.Log())
	out, ok := jdbc.connect(root, propsFile, env, query, jvmArgs...)
	if ok != tc.wantOK || !strings.Contains(out, tc.wantOutput) {
		t.Fatalf("connected=%v, want %v with %q in the output; the probe said:\n%s\n%s log (tail):\n%s",
			ok, tc.wantOK, tc.wantOutput, out, srv.Name, tail(srv.Log(), 15))
	}
	if tc.wantServerLog != "" {
		if logged := srv.Log()[logBefore:]; !strings.Contains(logged, tc.wantServerLog) {
			t.Fatalf("%s did not log %q; it logged:\n%s", srv.Name, tc.wantServerLog, logged)
		}
	}
	t.Logf("%s", out)
}

// cluster is an ImplyCluster "c" with TLS (the generated cluster CA) and one master group whose
// Druid metadata store is the test server at host:port with tls.
func cluster(typ implyv1alpha1.MetadataStoreType, host string, port int, tls *implyv1alpha1.MetadataStoreTLSSpec) *implyv1alpha1.ImplyCluster {
	return &implyv1alpha1.ImplyCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns"},
		Spec: implyv1alpha1.ImplyClusterSpec{
			Version: "2025.01",
			Druid: implyv1alpha1.DruidSpec{
				ZooKeeper: implyv1alpha1.ZooKeeperSpec{ConnectString: "zk:2181"},
				MetadataStore: implyv1alpha1.MetadataStoreSpec{
					Type: typ, Host: host, Port: int32(port), Database: "druid",
					CredentialsSecretRef: implyv1alpha1.CredentialsSecretReference{Name: "db-creds"},
					TLS:                  tls,
				},
				DeepStorage: implyv1alpha1.DeepStorageSpec{Type: specs.DeepStorageLocal, Path: "/var/druid/deep"},
			},
			NodeGroups: []implyv1alpha1.NodeGroupSpec{{Name: "master", Type: implyv1alpha1.NodeGroupMaster}},
			Security:   &implyv1alpha1.SecuritySpec{TLS: &implyv1alpha1.TLSSpec{Enabled: true, MinVersion: "1.2"}},
		},
	}
}

// operatorObjects builds, with the operator's pure builders, every ConfigMap and Secret the
// master pod of c mounts or reads: the common and group configuration, the metadata store's
// TLS Secret (as the controller must build it: specs.PlanMetadataTLS, then
// specs.DesiredMetadataTLS with the gathered Secrets), the user's Secrets
// (credentials, store CA, client certificate) and the group's own TLS Secret.
func operatorObjects(t *testing.T, c *implyv1alpha1.ImplyCluster, userClient map[string][]byte) objects {
	t.Helper()
	objs := objects{ConfigMaps: map[string]*corev1.ConfigMap{}, Secrets: map[string]*corev1.Secret{}}
	addSecret := func(name string, data map[string][]byte) { objs.Secrets[name] = &corev1.Secret{Data: data} }
	addSecret("db-creds", map[string][]byte{"username": []byte(dbUser), "password": []byte(dbPassword)})
	addSecret(caSecretName, map[string][]byte{"ca.crt": storeCA.CertPEM})
	if userClient != nil {
		addSecret("user-client-cert", userClient)
	}
	// The group's serving certificate is not under test; the pod mounts it, so it exists.
	groupLeaf, err := clusterCA.SignLeaf(clk, pki.LeafRequest{CommonName: "c-master", DNSNames: []string{"c-master"}, Validity: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	addSecret(specs.GroupTLSSecretName(c.Name, "master"), map[string][]byte{
		"tls.crt": groupLeaf.CertPEM, "tls.key": groupLeaf.KeyPEM, "ca.crt": clusterCA.CertPEM, "keystore-password": []byte("not-under-test-0123")})
	// With TLS the agents also mount the CA bundle (the CA certificate Imply's agents validate with).
	bundle := specs.BuildCABundleConfigMap(c, pki.BundlePEM(clusterCA.Certificate))
	objs.ConfigMaps[bundle.Name] = bundle

	// What the controller does for the store connection: plan, gather, DesiredMetadataTLS.
	plan, err := specs.PlanMetadataTLS(c, specs.MetadataStoreDruid)
	if err != nil {
		t.Fatal(err)
	}
	dataOf := func(name string) map[string][]byte {
		if s, ok := objs.Secrets[name]; ok {
			return s.Data
		}
		return nil
	}
	in := specs.MetadataTLSInputs{
		Plan: plan, ClusterBundlePEM: pki.BundlePEM(clusterCA.Certificate), ClusterCA: clusterCA,
		Username:       string(dataOf(c.Spec.Druid.MetadataStore.CredentialsSecretRef.Name)["username"]),
		UserClientData: dataOf(plan.ClientSecretName),
		Validity:       time.Hour, RenewBefore: 20 * time.Minute, Clock: clk,
		RevisionKey: []byte("revision-key-of-the-test-cluster"),
	}
	if plan.CASecret != nil {
		in.CASecretData = dataOf(plan.CASecret.Name)
	}
	res, err := specs.DesiredMetadataTLS(c, in)
	if err != nil {
		t.Fatal(err)
	}
	if res != nil {
		objs.Secrets[res.Secret.Name] = res.Secret
	}

	common, _ := specs.BuildCommonConfigMap(c)
	group, _ := specs.BuildGroupConfigMap(c, &c.Spec.NodeGroups[0])
	objs.ConfigMaps[common.Name], objs.ConfigMaps[group.Name] = common, group
	return objs
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// jvmTrustStore writes a PKCS#12 trust store holding ca and returns the JVM options that make
// it the JVM's default trust store (in place of its system roots).
func jvmTrustStore(t *testing.T, ca *pki.KeyPair) []string {
	t.Helper()
	const password = "jvm-roots-password"
	der, err := pki.Truststore([]*x509.Certificate{ca.Certificate}, password)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "roots.p12")
	if err := os.WriteFile(path, der, 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"-Djavax.net.ssl.trustStore=" + path, "-Djavax.net.ssl.trustStoreType=PKCS12", "-Djavax.net.ssl.trustStorePassword=" + password}
}
