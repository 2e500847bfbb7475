package specs

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

func TestIsOperatorOwnedKey(t *testing.T) {
	for key, owned := range map[string]bool{
		"druid.auth.authenticatorChain":                                       true,
		"druid.auth.unsecuredPaths":                                           true,
		"druid.escalator.internalClientUsername":                              true,
		"druid.server.https.requireClientCertificate":                         true,
		"druid.client.https.validateHostnames":                                true,
		"druid.enablePlaintextPort":                                           true,
		"druid.tlsPort":                                                       true,
		"druid.metadata.storage.connector.password":                           true,
		"druid.indexer.fork.property.druid.auth.authenticator.basic.type":     true,
		"druid.indexer.fork.property.druid.escalator.internalClientPassword":  true,
		"druid.indexer.fork.property.druid.client.https.trustStorePath":       true,
		"druid.indexer.fork.property.druid.indexer.fork.property.druid.auth.": true,
		"druid.indexer.fork.property.javax.net.ssl.trustStore":                true,
		"druid.indexer.fork.property.javax.net.debug":                         true,
		"druid.indexer.fork.property.jdk.tls.disabledAlgorithms":              true,
		"javax.net.ssl.keyStore":                                              true,
		"java.security.properties":                                            true,
		"https.protocols":                                                     true,

		"druid.authorizerCache":                                         false,
		"druid.server.http.numThreads":                                  false,
		"druid.indexer.fork.property.druid.processing.numThreads":       false,
		"druid.indexer.fork.property.druid.processing.buffer.sizeBytes": false,
		"druid.indexer.runner.javaOpts":                                 false, // filtered option by option
		"druid.emitter":                                                 false,
		"druid.metadata.storage.connector.user":                         false,
		"javax.net.sslx":                                                false,
	} {
		NewWithT(t).Expect(IsOperatorOwnedKey(key)).To(Equal(owned), key)
	}
}

func TestSplitJavaOpts(t *testing.T) {
	g := NewWithT(t)
	g.Expect(splitJavaOpts("  -Xmx1g\t-Da=\"b c\"\n -Dd=e ")).To(Equal([]string{"-Xmx1g", `-Da="b c"`, "-Dd=e"}))
	g.Expect(splitJavaOpts("-Da=x\u00a0-Db=y -Dc")).To(Equal([]string{"-Da=x\u00a0-Db=y", "-Dc"}), "a no-break space does not split")
	g.Expect(splitJavaOpts("")).To(BeEmpty())
}

// TestPeonPropertiesAreOperatorOwned: a data group's runtimeProperties cannot change the
// security of the peons its middleManager forks, through fork-property copies or through -D
// options in javaOpts or javaOptsArray; everything else there is applied, and what was dropped is
// named without its value.
func TestPeonPropertiesAreOperatorOwned(t *testing.T) {
	g := NewWithT(t)
	const secret = "s3cr3t-value"
	c := newCluster()
	data := group(c, "data")
	data.RuntimeProperties = map[string]string{
		"druid.indexer.fork.property.druid.auth.authenticatorChain":            `["allowAll"]`,
		"druid.indexer.fork.property.druid.client.https.trustStorePath":        "/tmp/" + secret,
		"druid.indexer.fork.property.javax.net.ssl.trustStorePassword":         secret,
		"druid.indexer.fork.property.druid.processing.numThreads":              "3",
		"druid.indexer.runner.javaOpts":                                        `-Xmx2g -Djavax.net.ssl.trustStore=/tmp/` + secret + ` "-Ddruid.auth.authenticatorChain=[]" -Dmy.flag=1 @/tmp/args -XX:VMOptionsFile=/tmp/opts`,
		"druid.indexer.runner.javaOptsArray":                                   `["-Xmx3g","-Ddruid.escalator.internalClientPassword=` + secret + `","-Djava.security.properties==/tmp/x","-Duser.country=DE"]`,
		"druid.indexer.fork.property.druid.indexer.fork.property.druid.auth.x": "y",
	}
	p, ignored := ServiceRuntimeProperties(c, data, MiddleManager)
	g.Expect(ignored).To(Equal([]string{
		"druid.indexer.fork.property.druid.auth.authenticatorChain",
		"druid.indexer.fork.property.druid.client.https.trustStorePath",
		"druid.indexer.fork.property.druid.indexer.fork.property.druid.auth.x",
		"druid.indexer.fork.property.javax.net.ssl.trustStorePassword",
		"druid.indexer.runner.javaOpts: -Ddruid.auth.authenticatorChain",
		"druid.indexer.runner.javaOpts: -Djavax.net.ssl.trustStore",
		"druid.indexer.runner.javaOpts: -XX:VMOptionsFile",
		"druid.indexer.runner.javaOpts: @argfile",
		"druid.indexer.runner.javaOptsArray: -Ddruid.escalator.internalClientPassword",
		"druid.indexer.runner.javaOptsArray: -Djava.security.properties",
	}))
	for _, k := range ignored {
		g.Expect(k).NotTo(ContainSubstring(secret), "a reported key carries no value")
	}
	g.Expect(p).To(HaveKeyWithValue("druid.indexer.fork.property.druid.processing.numThreads", "3"))
	g.Expect(p).To(HaveKeyWithValue(JavaOptsKey, "-Xmx2g -Dmy.flag=1"))
	g.Expect(p).To(HaveKeyWithValue(JavaOptsArrayKey, `["-Xmx3g","-Duser.country=DE"]`))
	for k, v := range p {
		g.Expect(k + "=" + v).NotTo(ContainSubstring(secret))
		if strings.HasPrefix(k, ForkPropertyPrefix) {
			g.Expect(IsOperatorOwnedKey(k)).To(BeFalse(), k)
		}
	}
}

// TestJavaOptsWithoutOwnedOptionsUnchanged: options the operator does not own pass through as
// the user wrote them, and a javaOptsArray that is not a JSON array of strings is dropped whole.
func TestJavaOptsWithoutOwnedOptionsUnchanged(t *testing.T) {
	g := NewWithT(t)
	c := newCluster()
	data := group(c, "data")
	data.RuntimeProperties = map[string]string{JavaOptsKey: `  -Xmx2g   -Dfoo="a b"`}
	p, ignored := ServiceRuntimeProperties(c, data, MiddleManager)
	g.Expect(ignored).To(BeEmpty())
	g.Expect(p).To(HaveKeyWithValue(JavaOptsKey, `  -Xmx2g   -Dfoo="a b"`))

	data.RuntimeProperties = map[string]string{JavaOptsArrayKey: `-Xmx2g -Djavax.net.ssl.trustStore=/x`}
	p, ignored = ServiceRuntimeProperties(c, data, MiddleManager)
	g.Expect(ignored).To(Equal([]string{JavaOptsArrayKey}))
	g.Expect(p[JavaOptsArrayKey]).NotTo(ContainSubstring("javax"), "the operator's own javaOptsArray stays")
}

// TestCommonForkPropertiesAreOperatorOwned: commonRuntimeProperties reach every middleManager,
// so their fork-property copies and JVM security properties are owned there too.
func TestCommonForkPropertiesAreOperatorOwned(t *testing.T) {
	g := NewWithT(t)
	c := newCluster(func(c *implyv1alpha1.ImplyCluster) {
		c.Spec.Druid.CommonRuntimeProperties = map[string]string{
			"druid.indexer.fork.property.druid.server.https.requireClientCertificate": "false",
			"javax.net.ssl.trustStore":                  "/tmp/t.jks",
			"druid.indexer.fork.property.druid.emitter": "logging",
		}
	})
	p, ignored := CommonRuntimeProperties(c)
	g.Expect(ignored).To(Equal([]string{
		"druid.indexer.fork.property.druid.server.https.requireClientCertificate",
		"javax.net.ssl.trustStore",
	}))
	g.Expect(p).To(HaveKeyWithValue("druid.indexer.fork.property.druid.emitter", "logging"))
	g.Expect(p).NotTo(HaveKey("javax.net.ssl.trustStore"))
}
