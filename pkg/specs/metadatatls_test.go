package specs

import (
	"crypto/x509"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/pki"
)

// withStoreTLS sets spec.druid.metadataStore.type and tls.
func withStoreTLS(typ implyv1alpha1.MetadataStoreType, tls *implyv1alpha1.MetadataStoreTLSSpec) clusterOption {
	return func(c *implyv1alpha1.ImplyCluster) {
		c.Spec.Druid.MetadataStore.Type = typ
		c.Spec.Druid.MetadataStore.TLS = tls
	}
}

func TestPlanMetadataTLS(t *testing.T) {
	caRef := &implyv1alpha1.SecretKeySelector{Name: "rds-ca"}
	generate := &implyv1alpha1.ClientCertificateSpec{Generate: true}
	userCert := &implyv1alpha1.ClientCertificateSpec{SecretRef: &implyv1alpha1.LocalObjectReference{Name: "druid-cert"}}
	for _, tc := range []struct {
		name       string
		clusterTLS bool
		typ        implyv1alpha1.MetadataStoreType
		tls        *implyv1alpha1.MetadataStoreTLSSpec
		want       MetadataTLSPlan
		wantErr    string
	}{
		{name: "no tls is verified TLS against the cluster CA", clusterTLS: true, typ: implyv1alpha1.MetadataStoreMySQL,
			want: MetadataTLSPlan{Enabled: true, Trust: MetadataTrustClusterBundle, SecretName: "c-metadata-tls", SecretType: corev1.SecretTypeOpaque}},
		{name: "tls: {} is the same", clusterTLS: true, typ: implyv1alpha1.MetadataStoreMySQL, tls: &implyv1alpha1.MetadataStoreTLSSpec{},
			want: MetadataTLSPlan{Enabled: true, Trust: MetadataTrustClusterBundle, SecretName: "c-metadata-tls", SecretType: corev1.SecretTypeOpaque}},
		{name: "explicit false is plaintext", clusterTLS: true, typ: implyv1alpha1.MetadataStoreMySQL,
			tls:  &implyv1alpha1.MetadataStoreTLSSpec{Enabled: ptr.To(false)},
			want: MetadataTLSPlan{}},
		{name: "no cluster TLS: system roots, nothing mounted", clusterTLS: false, typ: implyv1alpha1.MetadataStorePostgreSQL,
			want: MetadataTLSPlan{Enabled: true, Trust: MetadataTrustSystem}},
		{name: "caSecretRef with default key", clusterTLS: false, typ: implyv1alpha1.MetadataStorePostgreSQL,
			tls: &implyv1alpha1.MetadataStoreTLSSpec{CASecretRef: caRef},
			want: MetadataTLSPlan{Enabled: true, Trust: MetadataTrustCASecret, CASecret: &implyv1alpha1.SecretKeySelector{Name: "rds-ca", Key: "ca.crt"},
				SecretName: "c-metadata-tls", SecretType: corev1.SecretTypeOpaque}},
		{name: "generated client certificate", clusterTLS: true, typ: implyv1alpha1.MetadataStorePostgreSQL,
			tls: &implyv1alpha1.MetadataStoreTLSSpec{ClientCertificate: generate},
			want: MetadataTLSPlan{Enabled: true, Trust: MetadataTrustClusterBundle, Client: MetadataClientGenerate,
				SecretName: "c-metadata-client-tls", SecretType: corev1.SecretTypeTLS}},
		{name: "user client certificate", clusterTLS: true, typ: implyv1alpha1.MetadataStoreMySQL,
			tls: &implyv1alpha1.MetadataStoreTLSSpec{ClientCertificate: userCert},
			want: MetadataTLSPlan{Enabled: true, Trust: MetadataTrustClusterBundle, Client: MetadataClientSecretRef, ClientSecretName: "druid-cert",
				SecretName: "c-metadata-client-tls", SecretType: corev1.SecretTypeTLS}},
		{name: "generate without a cluster CA", clusterTLS: false, typ: implyv1alpha1.MetadataStoreMySQL,
			tls: &implyv1alpha1.MetadataStoreTLSSpec{ClientCertificate: generate},
			want: MetadataTLSPlan{Enabled: true, Trust: MetadataTrustSystem, Client: MetadataClientGenerate,
				SecretName: "c-metadata-client-tls", SecretType: corev1.SecretTypeTLS},
			wantErr: "spec.druid.metadataStore.tls.clientCertificate.generate needs the cluster CA"},
		{name: "postgres client certificate on system roots", clusterTLS: false, typ: implyv1alpha1.MetadataStorePostgreSQL,
			tls: &implyv1alpha1.MetadataStoreTLSSpec{ClientCertificate: userCert},
			want: MetadataTLSPlan{Enabled: true, Trust: MetadataTrustSystem, Client: MetadataClientSecretRef, ClientSecretName: "druid-cert",
				SecretName: "c-metadata-client-tls", SecretType: corev1.SecretTypeTLS},
			wantErr: "spec.druid.metadataStore.tls.caSecretRef is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			c := newCluster(withTLS(tc.clusterTLS), withStoreTLS(tc.typ, tc.tls))
			plan, err := PlanMetadataTLS(c, MetadataStoreDruid)
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
			} else {
				g.Expect(err).NotTo(HaveOccurred())
			}
			tc.want.Role, tc.want.Field, tc.want.Type = MetadataStoreDruid, "spec.druid.metadataStore", tc.typ
			g.Expect(plan).To(Equal(tc.want))
		})
	}
}

func TestPlanMetadataTLSManager(t *testing.T) {
	g := NewWithT(t)
	c := newCluster()
	plan, err := PlanMetadataTLS(c, ManagerMetadataStoreRole(c))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(plan.SecretName).To(Equal("c-metadata-tls"), "the manager shares Druid's store and Secret")

	own := c.Spec.Druid.MetadataStore.DeepCopy()
	own.TLS = &implyv1alpha1.MetadataStoreTLSSpec{ClientCertificate: &implyv1alpha1.ClientCertificateSpec{Generate: true}}
	c.Spec.Manager.MetadataStore = own
	plan, err = PlanMetadataTLS(c, ManagerMetadataStoreRole(c))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(plan.Role).To(Equal(MetadataStoreManager))
	g.Expect(plan.Field).To(Equal("spec.manager.metadataStore"))
	g.Expect(plan.SecretName).To(Equal("c-manager-metadata-client-tls"))
}

func TestMetadataStoreTLSProperties(t *testing.T) {
	const dir = "/etc/imply/metadata-tls/"
	pw := `{"type":"environment","variable":"IMPLY_METADATA_TLS_PASSWORD"}`
	generate := &implyv1alpha1.MetadataStoreTLSSpec{ClientCertificate: &implyv1alpha1.ClientCertificateSpec{Generate: true}}
	for _, tc := range []struct {
		name       string
		clusterTLS bool
		typ        implyv1alpha1.MetadataStoreType
		tls        *implyv1alpha1.MetadataStoreTLSSpec
		want       map[string]string
		uri        string
	}{
		{name: "mysql default", clusterTLS: true, typ: implyv1alpha1.MetadataStoreMySQL,
			uri: "jdbc:mysql://mysql:3306/druid?sslMode=VERIFY_IDENTITY",
			want: map[string]string{
				"druid.metadata.mysql.ssl.useSSL":                           "true",
				"druid.metadata.mysql.ssl.verifyServerCertificate":          "true",
				"druid.metadata.mysql.ssl.enabledTLSProtocols":              `["TLSv1.2","TLSv1.3"]`,
				"druid.metadata.mysql.ssl.trustCertificateKeyStoreUrl":      dir + "truststore.p12",
				"druid.metadata.mysql.ssl.trustCertificateKeyStoreType":     "PKCS12",
				"druid.metadata.mysql.ssl.trustCertificateKeyStorePassword": pw,
			}},
		{name: "mysql client certificate", clusterTLS: true, typ: implyv1alpha1.MetadataStoreMySQL, tls: generate,
			uri: "jdbc:mysql://mysql:3306/druid?sslMode=VERIFY_IDENTITY",
			want: map[string]string{
				"druid.metadata.mysql.ssl.useSSL":                            "true",
				"druid.metadata.mysql.ssl.verifyServerCertificate":           "true",
				"druid.metadata.mysql.ssl.enabledTLSProtocols":               `["TLSv1.2","TLSv1.3"]`,
				"druid.metadata.mysql.ssl.trustCertificateKeyStoreUrl":       dir + "truststore.p12",
				"druid.metadata.mysql.ssl.trustCertificateKeyStoreType":      "PKCS12",
				"druid.metadata.mysql.ssl.trustCertificateKeyStorePassword":  pw,
				"druid.metadata.mysql.ssl.clientCertificateKeyStoreUrl":      dir + "keystore.p12",
				"druid.metadata.mysql.ssl.clientCertificateKeyStoreType":     "PKCS12",
				"druid.metadata.mysql.ssl.clientCertificateKeyStorePassword": pw,
			}},
		{name: "mysql system roots", clusterTLS: false, typ: implyv1alpha1.MetadataStoreMySQL,
			uri: "jdbc:mysql://mysql:3306/druid?sslMode=VERIFY_IDENTITY",
			want: map[string]string{
				"druid.metadata.mysql.ssl.useSSL":                  "true",
				"druid.metadata.mysql.ssl.verifyServerCertificate": "true",
				"druid.metadata.mysql.ssl.enabledTLSProtocols":     `["TLSv1.2","TLSv1.3"]`,
			}},
		{name: "mysql plaintext", clusterTLS: true, typ: implyv1alpha1.MetadataStoreMySQL,
			tls: &implyv1alpha1.MetadataStoreTLSSpec{Enabled: ptr.To(false)},
			uri: "jdbc:mysql://mysql:3306/druid", want: map[string]string{}},
		{name: "postgres client certificate", clusterTLS: true, typ: implyv1alpha1.MetadataStorePostgreSQL, tls: generate,
			uri: "jdbc:postgresql://mysql:5432/druid",
			want: map[string]string{
				"druid.metadata.postgres.ssl.useSSL":      "true",
				"druid.metadata.postgres.ssl.sslMode":     "verify-full",
				"druid.metadata.postgres.ssl.sslRootCert": dir + "ca.crt",
				"druid.metadata.postgres.ssl.sslCert":     dir + "tls.crt",
				"druid.metadata.postgres.ssl.sslKey":      dir + "tls.pk8",
			}},
		{name: "postgres system roots", clusterTLS: false, typ: implyv1alpha1.MetadataStorePostgreSQL,
			uri: "jdbc:postgresql://mysql:5432/druid",
			want: map[string]string{
				"druid.metadata.postgres.ssl.useSSL":     "true",
				"druid.metadata.postgres.ssl.sslMode":    "verify-full",
				"druid.metadata.postgres.ssl.sslFactory": "org.postgresql.ssl.DefaultJavaSSLFactory",
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			c := newCluster(withTLS(tc.clusterTLS), withStoreTLS(tc.typ, tc.tls))
			p := commonProps(t, c)
			got := map[string]string{}
			for k, v := range p {
				if len(k) > len("druid.metadata.") && (k[:len("druid.metadata.m")] == "druid.metadata.m" || k[:len("druid.metadata.p")] == "druid.metadata.p") {
					got[k] = v
				}
			}
			g.Expect(got).To(Equal(tc.want))
			g.Expect(p).To(HaveKeyWithValue("druid.metadata.storage.connector.connectURI", tc.uri))
		})
	}
}

func TestMetadataStoreTLSPropertiesAreOperatorOwned(t *testing.T) {
	g := NewWithT(t)
	c := newCluster(func(c *implyv1alpha1.ImplyCluster) {
		c.Spec.Druid.CommonRuntimeProperties = map[string]string{
			"druid.metadata.mysql.ssl.verifyServerCertificate": "false",
			"druid.metadata.postgres.ssl.sslMode":              "disable",
		}
	})
	p, ignored := CommonRuntimeProperties(c)
	g.Expect(ignored).To(ConsistOf("druid.metadata.mysql.ssl.verifyServerCertificate", "druid.metadata.postgres.ssl.sslMode"))
	g.Expect(p).To(HaveKeyWithValue("druid.metadata.mysql.ssl.verifyServerCertificate", "true"))
	g.Expect(p).NotTo(HaveKey("druid.metadata.postgres.ssl.sslMode"))
}

func TestMetadataTLSMountsInAgentsAndManager(t *testing.T) {
	g := NewWithT(t)
	c := newCluster(withStoreTLS(implyv1alpha1.MetadataStorePostgreSQL,
		&implyv1alpha1.MetadataStoreTLSSpec{ClientCertificate: &implyv1alpha1.ClientCertificateSpec{Generate: true}}))
	check := func(pod corev1.PodSpec) {
		var vol *corev1.Volume
		for i := range pod.Volumes {
			if pod.Volumes[i].Name == MetadataTLSVolumeName {
				vol = &pod.Volumes[i]
			}
		}
		g.Expect(vol).NotTo(BeNil())
		g.Expect(vol.Secret.SecretName).To(Equal("c-metadata-client-tls"))
		g.Expect(*vol.Secret.DefaultMode).To(Equal(int32(0o440)))
		g.Expect(pod.Containers[0].VolumeMounts).To(ContainElement(corev1.VolumeMount{
			Name: MetadataTLSVolumeName, MountPath: "/etc/imply/metadata-tls", ReadOnly: true}))
		env := envByName(pod.Containers[0].Env)
		g.Expect(env[EnvMetadataTLSPassword].Value).To(BeEmpty())
		g.Expect(env[EnvMetadataTLSPassword].ValueFrom.SecretKeyRef.Name).To(Equal("c-metadata-client-tls"))
		g.Expect(env[EnvMetadataTLSPassword].ValueFrom.SecretKeyRef.Key).To(Equal("keystore-password"))
	}
	check(BuildStatefulSet(c, group(c, "master"), Revisions{}).Spec.Template.Spec)
	check(BuildManagerDeployment(c, Revisions{}).Spec.Template.Spec)

	// Plaintext, or system roots without a client certificate: nothing mounted.
	for _, c := range []*implyv1alpha1.ImplyCluster{
		newCluster(withStoreTLS(implyv1alpha1.MetadataStoreMySQL, &implyv1alpha1.MetadataStoreTLSSpec{Enabled: ptr.To(false)})),
		newCluster(withTLS(false)),
	} {
		for _, v := range BuildStatefulSet(c, group(c, "data"), Revisions{}).Spec.Template.Spec.Volumes {
			g.Expect(v.Name).NotTo(Equal(MetadataTLSVolumeName))
		}
	}
}

func TestManagerStoreSSLMode(t *testing.T) {
	for _, tc := range []struct {
		typ  implyv1alpha1.MetadataStoreType
		tls  *implyv1alpha1.MetadataStoreTLSSpec
		want string
	}{
		{implyv1alpha1.MetadataStoreMySQL, nil, "VERIFY_IDENTITY"},
		{implyv1alpha1.MetadataStoreMySQL, &implyv1alpha1.MetadataStoreTLSSpec{Enabled: ptr.To(false)}, "DISABLED"},
		{implyv1alpha1.MetadataStorePostgreSQL, nil, "verify-full"},
		{implyv1alpha1.MetadataStorePostgreSQL, &implyv1alpha1.MetadataStoreTLSSpec{Enabled: ptr.To(false)}, "disable"},
	} {
		g := NewWithT(t)
		c := newCluster(withStoreTLS(tc.typ, tc.tls))
		env := envByName(BuildManagerDeployment(c, Revisions{}).Spec.Template.Spec.Containers[0].Env)
		g.Expect(env["IMPLY_MANAGER_STORE_SSLMODE"].Value).To(Equal(tc.want))
	}
}

// testCA makes a CA and a client leaf for user.
func testCA(t *testing.T, name string) *pki.KeyPair {
	t.Helper()
	ca, err := pki.CreateRootCA(clocktesting.NewFakePassiveClock(time.Now()), name, "", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func TestMetadataTLSSecretAndRevision(t *testing.T) {
	g := NewWithT(t)
	clk := clocktesting.NewFakePassiveClock(time.Now())
	ca, other := testCA(t, "c-ca"), testCA(t, "store-ca")
	leaf, err := ca.SignLeaf(clk, pki.ClientLeafRequest("druid", "", time.Hour))
	g.Expect(err).NotTo(HaveOccurred())
	const pw = "0123456789abcdefXYZ"

	c := newCluster(withStoreTLS(implyv1alpha1.MetadataStorePostgreSQL,
		&implyv1alpha1.MetadataStoreTLSSpec{ClientCertificate: &implyv1alpha1.ClientCertificateSpec{Generate: true}}))
	plan, err := PlanMetadataTLS(c, MetadataStoreDruid)
	g.Expect(err).NotTo(HaveOccurred())
	m := MetadataTLSMaterial{Trusted: []*x509.Certificate{ca.Certificate}, Client: leaf, ClientChain: []*x509.Certificate{ca.Certificate}, Password: pw}
	s, err := BuildMetadataTLSSecret(c, plan, m)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(s.Name).To(Equal("c-metadata-client-tls"))
	g.Expect(s.Type).To(Equal(corev1.SecretTypeTLS))
	g.Expect(s.Labels).To(HaveKeyWithValue("imply.operator.dev/cluster", "c"))
	g.Expect(s.Data).To(HaveKey("tls.crt"))
	g.Expect(s.Data).To(HaveKey("tls.key"))
	g.Expect(s.Data).To(HaveKey("keystore.p12"))
	g.Expect(s.Data).To(HaveKey("truststore.p12"))
	g.Expect(string(s.Data["keystore-password"])).To(Equal(pw))
	g.Expect(s.Data["ca.crt"]).To(Equal(ca.CertPEM))
	key, err := x509.ParsePKCS8PrivateKey(s.Data["tls.pk8"])
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(key).NotTo(BeNil())
	certs, err := pki.ParseBundle(s.Data["tls.crt"])
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(certs).To(HaveLen(2), "the leaf and its issuer")
	g.Expect(certs[0].Subject.CommonName).To(Equal("druid"))

	// The material must match the plan.
	_, err = BuildMetadataTLSSecret(c, plan, MetadataTLSMaterial{Trusted: m.Trusted, Password: pw})
	g.Expect(err).To(MatchError(ContainSubstring("client certificate does not match the plan")))

	// Every change of what the pods depend on changes the revision; re-encoding does not.
	base := mustRevision(t, s.Data)
	again, err := MetadataTLSData(m)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(mustRevision(t, again)).To(Equal(base))
	newCA, err := MetadataTLSData(MetadataTLSMaterial{Trusted: []*x509.Certificate{other.Certificate}, Client: leaf, Password: pw})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(mustRevision(t, newCA)).NotTo(Equal(base))
	leaf2, err := ca.SignLeaf(clk, pki.ClientLeafRequest("druid", "", time.Hour))
	g.Expect(err).NotTo(HaveOccurred())
	newLeaf, err := MetadataTLSData(MetadataTLSMaterial{Trusted: m.Trusted, Client: leaf2, Password: pw})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(mustRevision(t, newLeaf)).NotTo(Equal(base))
	noClient, err := MetadataTLSData(MetadataTLSMaterial{Trusted: m.Trusted, Password: pw})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(mustRevision(t, noClient)).NotTo(Equal(base))
	g.Expect(mustRevision(t, nil)).To(BeEmpty())
	_, err = MetadataTLSRevision([]byte("short"), s.Data)
	g.Expect(err).To(HaveOccurred(), "a revision of key material needs the cluster's revision key")
	otherKey, err := MetadataTLSRevision([]byte("fedcba9876543210fedcba9876543210"), s.Data)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(otherKey).NotTo(Equal(base), "keyed: another cluster's key gives another revision")

	// Folded into the tls-revision: unchanged without store material, changed with it.
	g.Expect(WithMetadataTLSRevision("abc", "")).To(Equal("abc"))
	g.Expect(WithMetadataTLSRevision("", base)).To(Equal(base))
	g.Expect(WithMetadataTLSRevision("abc", base)).NotTo(Equal(WithMetadataTLSRevision("abc", mustRevision(t, newCA))))

	_, err = MetadataTLSData(MetadataTLSMaterial{Password: pw})
	g.Expect(err).To(HaveOccurred())
	_, err = MetadataTLSData(MetadataTLSMaterial{Trusted: m.Trusted, Password: "short"})
	g.Expect(err).To(HaveOccurred())
}

func TestMetadataTrustedCAs(t *testing.T) {
	g := NewWithT(t)
	ca := testCA(t, "store-ca")
	c := newCluster(withStoreTLS(implyv1alpha1.MetadataStoreMySQL,
		&implyv1alpha1.MetadataStoreTLSSpec{CASecretRef: &implyv1alpha1.SecretKeySelector{Name: "rds-ca", Key: "bundle.pem"}}))
	plan, _ := PlanMetadataTLS(c, MetadataStoreDruid)
	cas, err := MetadataTrustedCAs(plan, map[string][]byte{"bundle.pem": ca.CertPEM}, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cas).To(HaveLen(1))
	_, err = MetadataTrustedCAs(plan, nil, nil)
	g.Expect(err).To(MatchError(`secret "rds-ca" named by spec.druid.metadataStore.tls.caSecretRef does not exist`))
	_, err = MetadataTrustedCAs(plan, map[string][]byte{"ca.crt": ca.CertPEM}, nil)
	g.Expect(err).To(MatchError(ContainSubstring(`key "bundle.pem" of Secret "rds-ca" named by spec.druid.metadataStore.tls.caSecretRef is missing or empty`)))
	_, err = MetadataTrustedCAs(plan, map[string][]byte{"bundle.pem": []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")}, nil)
	g.Expect(err).To(MatchError(ContainSubstring("does not parse")))

	bundlePlan, _ := PlanMetadataTLS(newCluster(), MetadataStoreDruid)
	cas, err = MetadataTrustedCAs(bundlePlan, nil, ca.CertPEM)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cas[0].Equal(ca.Certificate)).To(BeTrue())
	_, err = MetadataTrustedCAs(bundlePlan, nil, nil)
	g.Expect(err).To(MatchError("the cluster's CA bundle is missing or empty"))
}

func TestMetadataTLSModeChangesRevisions(t *testing.T) {
	g := NewWithT(t)
	caRef := &implyv1alpha1.SecretKeySelector{Name: "rds-ca"}
	modes := map[string]*implyv1alpha1.MetadataStoreTLSSpec{
		"default":   nil,
		"plaintext": {Enabled: ptr.To(false)},
		"store CA":  {CASecretRef: caRef},
		"generated": {ClientCertificate: &implyv1alpha1.ClientCertificateSpec{Generate: true}},
		"user cert": {CASecretRef: caRef, ClientCertificate: &implyv1alpha1.ClientCertificateSpec{SecretRef: &implyv1alpha1.LocalObjectReference{Name: "x"}}},
	}
	for _, typ := range []implyv1alpha1.MetadataStoreType{implyv1alpha1.MetadataStoreMySQL, implyv1alpha1.MetadataStorePostgreSQL} {
		seen := map[string]string{}
		for name, tls := range modes {
			c := newCluster(withStoreTLS(typ, tls))
			common, _ := BuildCommonConfigMap(c)
			rev := ConfigRevision(common)
			if name == "store CA" || name == "user cert" {
				// The same properties as "default" and "generated": only the material differs,
				// which the metadata TLS revision (in the tls-revision) tells apart, see
				// TestMetadataTLSSecretAndRevision.
				continue
			}
			g.Expect(seen).NotTo(HaveKey(rev), "%s %s renders the same configuration as %s", typ, name, seen[rev])
			seen[rev] = name
		}
		// The mounted Secret differs between a store with and without a client certificate, so
		// the pod template (and the manager's) changes too.
		without := BuildStatefulSet(newCluster(withStoreTLS(typ, nil)), &implyv1alpha1.NodeGroupSpec{Name: "data", Type: implyv1alpha1.NodeGroupData}, Revisions{})
		with := BuildStatefulSet(newCluster(withStoreTLS(typ, modes["generated"])), &implyv1alpha1.NodeGroupSpec{Name: "data", Type: implyv1alpha1.NodeGroupData}, Revisions{})
		g.Expect(with.Spec.Template.Spec.Volumes).NotTo(Equal(without.Spec.Template.Spec.Volumes))
	}
}

// testRevisionKey is a revision key for the tests.
var testRevisionKey = []byte("0123456789abcdef0123456789abcdef")

// mustRevision is MetadataTLSRevision with testRevisionKey.
func mustRevision(t *testing.T, data map[string][]byte) string {
	t.Helper()
	rev, err := MetadataTLSRevision(testRevisionKey, data)
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

func TestReferencedSecretsWatchStoreTLSSecrets(t *testing.T) {
	g := NewWithT(t)
	c := newCluster(withStoreTLS(implyv1alpha1.MetadataStorePostgreSQL, &implyv1alpha1.MetadataStoreTLSSpec{
		CASecretRef:       &implyv1alpha1.SecretKeySelector{Name: "rds-ca"},
		ClientCertificate: &implyv1alpha1.ClientCertificateSpec{SecretRef: &implyv1alpha1.LocalObjectReference{Name: "druid-cert"}},
	}))
	own := c.Spec.Druid.MetadataStore.DeepCopy()
	own.TLS = &implyv1alpha1.MetadataStoreTLSSpec{CASecretRef: &implyv1alpha1.SecretKeySelector{Name: "manager-ca"}}
	c.Spec.Manager.MetadataStore = own
	g.Expect(ReferencedSecrets(c)).To(ContainElements(
		SecretReference{Field: "spec.druid.metadataStore.tls.caSecretRef", Name: "rds-ca", WatchOnly: true},
		SecretReference{Field: "spec.druid.metadataStore.tls.clientCertificate.secretRef", Name: "druid-cert", WatchOnly: true},
		SecretReference{Field: "spec.manager.metadataStore.tls.caSecretRef", Name: "manager-ca", WatchOnly: true},
	))
	// Plaintext stores reference nothing (admission rejects a CA there anyway).
	plain := newCluster(withStoreTLS(implyv1alpha1.MetadataStoreMySQL, &implyv1alpha1.MetadataStoreTLSSpec{Enabled: ptr.To(false)}))
	for _, r := range ReferencedSecrets(plain) {
		g.Expect(r.Field).NotTo(ContainSubstring(".tls."))
	}
}
