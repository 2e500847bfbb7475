package specs

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

func TestDruidServicesTuneOneServiceOfTheGroup(t *testing.T) {
	g := NewWithT(t)
	c := newCluster()
	q := group(c, "query")
	q.RuntimeProperties = map[string]string{"druid.server.http.numThreads": "40"}
	q.DruidServices = map[string]implyv1alpha1.DruidServiceSpec{
		ServiceBroker: {
			RuntimeProperties: map[string]string{
				"druid.server.http.numThreads":         "60",
				"druid.broker.http.numConnections":     "50",
				"druid.server.https.keyStorePassword":  "mine",
				"druid.auth.authenticatorChain":        `["allowAll"]`,
				ForkPropertyPrefix + "javax.net.ssl.x": "y",
			},
			JVMOptions: []string{"-Xmx6g", "-Xms6g", "-XX:+UseG1GC", "-Djavax.net.ssl.trustStore=/tmp/x", "-Dfoo=bar"},
		},
	}
	cm, ignored := BuildGroupConfigMap(c, q)
	g.Expect(ignored).To(Equal([]string{
		"broker: -Djavax.net.ssl.trustStore",
		"broker: druid.auth.authenticatorChain",
		"broker: " + ForkPropertyPrefix + "javax.net.ssl.x",
		"broker: druid.server.https.keyStorePassword",
	}))
	broker := cm.Data[RuntimePropertiesKey(Broker)]
	g.Expect(broker).To(ContainSubstring("druid.server.http.numThreads=60\n"), "the service's own value wins over the group's")
	g.Expect(broker).To(ContainSubstring("druid.broker.http.numConnections=50\n"))
	g.Expect(broker).NotTo(ContainSubstring("allowAll"))
	g.Expect(broker).NotTo(ContainSubstring("mine"))
	g.Expect(cm.Data[RuntimePropertiesKey(Router)]).To(ContainSubstring("druid.server.http.numThreads=40\n"), "other services keep the group's")

	jvm := strings.Split(strings.TrimSpace(cm.Data[JVMConfigKey(Broker)]), "\n")
	g.Expect(jvm).NotTo(ContainElement(HavePrefix("-Xmx1024m")), "a user -Xmx replaces the operator's heap")
	g.Expect(jvm).NotTo(ContainElement("-Xms1024m"))
	g.Expect(jvm[len(jvm)-4:]).To(Equal([]string{"-Xmx6g", "-Xms6g", "-XX:+UseG1GC", "-Dfoo=bar"}))
	g.Expect(jvm).To(ContainElement("-XX:+ExitOnOutOfMemoryError"))
	g.Expect(cm.Data[JVMConfigKey(Router)]).To(ContainSubstring("-Xmx512m\n"), "the router keeps its default heap")
}

func TestDruidServicesOptionsWithoutHeapKeepTheDefaultHeap(t *testing.T) {
	g := NewWithT(t)
	c := newCluster()
	d := group(c, "data")
	d.DruidServices = map[string]implyv1alpha1.DruidServiceSpec{ServiceHistorical: {JVMOptions: []string{"-XX:+UseZGC"}}}
	cm, ignored := BuildGroupConfigMap(c, d)
	g.Expect(ignored).To(BeEmpty())
	g.Expect(cm.Data[JVMConfigKey(Historical)]).To(HavePrefix("-server\n-Xms1024m\n-Xmx1024m\n"))
	g.Expect(cm.Data[JVMConfigKey(Historical)]).To(HaveSuffix("-XX:+UseZGC\n"))
	g.Expect(cm.Data[JVMConfigKey(MiddleManager)]).To(HavePrefix("-server\n-Xms256m\n-Xmx256m\n"))
}
