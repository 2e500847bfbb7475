package chart

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testenv"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// installation is one way of installing the operator: the objects to create, and who runs it.
type installation struct {
	// objects are applied for real, as `helm install` or `kubectl apply` would (CRDs excepted:
	// the control plane already serves them).
	objects []*unstructured.Unstructured
	// namespace and serviceAccount identify the operator's ServiceAccount.
	namespace, serviceAccount string
	// outOfClusterArgs are what a Pod gets from its environment and a process must be told.
	outOfClusterArgs []string
}

// operatorProcess is the operator binary running with a ServiceAccount's token.
type operatorProcess struct {
	cmd                    *exec.Cmd
	logPath                string
	probePort, metricsPort int
	// metricsReader is the installation's ClusterRole allowing GET /metrics.
	metricsReader string
	done          chan struct{}
}

// metricsReaderRole returns the name of the installation's ClusterRole that grants exactly get
// on /metrics.
func (in installation) metricsReaderRole() string {
	GinkgoHelper()
	var names []string
	for _, cr := range ofKind(in.objects, "ClusterRole") {
		rules := rulesOf(cr)
		if len(rules) == 1 && len(rules[0].NonResourceURLs) > 0 {
			Expect(rules[0]).To(Equal(rbacv1.PolicyRule{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}), cr.GetName())
			names = append(names, cr.GetName())
		}
	}
	Expect(names).To(HaveLen(1), "one metrics-reader ClusterRole in %v", kinds(in.objects))
	return names[0]
}

// install creates the installation's objects and returns a kubeconfig holding a token of its
// ServiceAccount, issued by the apiserver (TokenRequest), so the operator authenticates exactly as
// it does in its Pod.
func (in installation) install() string {
	GinkgoHelper()
	ensureNamespace(in.namespace, nil)
	for _, o := range in.objects {
		if o.GetNamespace() != "" {
			ensureNamespace(o.GetNamespace(), nil)
		}
	}
	var objs []*unstructured.Unstructured
	for _, o := range in.objects {
		if o.GetKind() != "CustomResourceDefinition" && o.GetKind() != "Namespace" {
			objs = append(objs, o)
		}
	}
	applyForReal(objs)

	clientset, err := kubernetes.NewForConfig(adminCfg)
	Expect(err).NotTo(HaveOccurred())
	token, err := clientset.CoreV1().ServiceAccounts(in.namespace).CreateToken(ctx, in.serviceAccount,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}},
		metav1.CreateOptions{})
	Expect(err).NotTo(HaveOccurred())

	kubeconfig := clientcmdapi.NewConfig()
	kubeconfig.Clusters["envtest"] = &clientcmdapi.Cluster{Server: adminCfg.Host, CertificateAuthorityData: adminCfg.CAData}
	kubeconfig.AuthInfos["operator"] = &clientcmdapi.AuthInfo{Token: token.Status.Token}
	kubeconfig.Contexts["operator"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "operator", Namespace: in.namespace}
	kubeconfig.CurrentContext = "operator"
	path := filepath.Join(workDir, in.namespace+"-"+in.serviceAccount+".kubeconfig")
	Expect(clientcmd.WriteToFile(*kubeconfig, path)).To(Succeed())
	return path
}

// operatorArgs are the arguments the installation's Deployment gives the operator container,
// then what a process outside a Pod needs, then loopback ports for probes and metrics (the last
// occurrence of a flag wins).
func (in installation) operatorArgs(probePort, metricsPort int) []string {
	GinkgoHelper()
	deployments := ofKind(in.objects, "Deployment")
	Expect(deployments).To(HaveLen(1))
	c := managerContainer(deployments[0])
	Expect(c).NotTo(HaveKey("command"), "the image's entrypoint runs the operator")
	args := append(stringsOf(c, "args"), in.outOfClusterArgs...)
	return append(args,
		fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", probePort),
		fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", metricsPort))
}

// start runs the operator binary with the installation's arguments and only the kubeconfig.
func (in installation) start(kubeconfig string) *operatorProcess {
	GinkgoHelper()
	probePort, err := testenv.FreePort()
	Expect(err).NotTo(HaveOccurred())
	metricsPort, err := testenv.FreePort()
	Expect(err).NotTo(HaveOccurred())
	p := &operatorProcess{probePort: probePort, metricsPort: metricsPort, metricsReader: in.metricsReaderRole(), done: make(chan struct{})}
	args := in.operatorArgs(p.probePort, p.metricsPort)
	By("starting the operator as " + in.namespace + "/" + in.serviceAccount + " with " + strings.Join(args, " "))
	logFile, err := os.CreateTemp(workDir, "operator-*.log")
	Expect(err).NotTo(HaveOccurred())
	p.logPath = logFile.Name()
	p.cmd = exec.Command(operatorBinary, args...)
	p.cmd.Env = append(environWithout("KUBECONFIG", "KUBEBUILDER_ASSETS"), "KUBECONFIG="+kubeconfig)
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	Expect(p.cmd.Start()).To(Succeed())
	go func() {
		_ = p.cmd.Wait()
		_ = logFile.Close()
		close(p.done)
	}()
	DeferCleanup(p.stop)
	return p
}

// stop sends SIGTERM and waits for the operator to exit, printing its log when the spec failed.
func (p *operatorProcess) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	if CurrentSpecReport().Failed() {
		log, _ := os.ReadFile(p.logPath)
		GinkgoWriter.Printf("operator log:\n%s\n", log)
	}
}

// forbidden returns the log lines that report a request the apiserver refused for lack of RBAC.
func (p *operatorProcess) forbidden() []string {
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return []string{err.Error()}
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.Contains(strings.ToLower(sc.Text()), "forbidden") {
			lines = append(lines, sc.Text())
		}
	}
	return lines
}

// expectRunning fails at once when the operator exited or was refused a request.
func (p *operatorProcess) expectRunning(g Gomega) {
	select {
	case <-p.done:
		log, _ := os.ReadFile(p.logPath)
		g.Expect("exited").To(Equal("running"), "the operator exited:\n%s", log)
	default:
	}
	if lines := p.forbidden(); len(lines) > 0 {
		StopTrying(fmt.Sprintf("the operator was refused a request its RBAC should allow:\n%s", strings.Join(lines, "\n"))).Now()
	}
}

// eventually polls f with a generous timeout, failing at once if the operator is denied anything.
func (p *operatorProcess) eventually(f func(Gomega)) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		p.expectRunning(g)
		f(g)
	}).WithTimeout(90 * time.Second).WithPolling(250 * time.Millisecond).Should(Succeed())
}

// reconcileFully drives one ImplyCluster through create, readiness, a spec change that patches
// and deletes owned objects, and checks every step was allowed.
func (p *operatorProcess) reconcileFully(namespace string) {
	GinkgoHelper()
	By("serving /healthz and /readyz, the paths of the Deployment's probes")
	for _, path := range []string{"/healthz", "/readyz"} {
		p.eventually(func(g Gomega) {
			code, _, err := testenv.HTTPGet(fmt.Sprintf("http://127.0.0.1:%d%s", p.probePort, path))
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(code).To(Equal(http.StatusOK))
		})
	}

	By("creating an ImplyCluster and the Secrets it references in " + namespace)
	ensureNamespace(namespace, nil)
	for _, s := range testobj.Secrets(namespace) {
		Expect(k8sClient.Create(ctx, s)).To(Succeed())
	}
	By("securing it fully: TLS from a generated CA, Druid basic security, a generated agent token and a password policy")
	Expect(k8sClient.Create(ctx, &implyv1alpha1.SecurityPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "strict", Namespace: namespace},
		Spec:       implyv1alpha1.SecurityPolicySpec{Password: implyv1alpha1.PasswordPolicy{MinLength: 20, MaxLength: 64}},
	})).To(Succeed())
	Expect(k8sClient.Create(ctx, &implyv1alpha1.AuthToken{
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: namespace},
		Spec:       implyv1alpha1.AuthTokenSpec{Type: implyv1alpha1.AuthTokenAgent},
	})).To(Succeed())
	cluster := testobj.ImplyCluster("c", namespace, testobj.WithGroup("hot", implyv1alpha1.NodeGroupData, 1), testobj.WithAuth("agent", "strict"))
	Expect(k8sClient.Create(ctx, cluster)).To(Succeed())

	By("waiting for the StatefulSets, the manager Deployment and a Ready condition")
	p.eventually(func(g Gomega) {
		for _, group := range []string{"master", "query", "data", "hot"} {
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: namespace, Name: specs.GroupName("c", group)}, &appsv1.StatefulSet{})).To(Succeed())
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: namespace, Name: specs.GroupName("c", group)}, &policyv1.PodDisruptionBudget{})).To(Succeed())
		}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: namespace, Name: specs.ManagerName("c")}, &appsv1.Deployment{})).To(Succeed())
		expectReadyCondition(g, cluster, metav1.ConditionFalse)
	})

	By("marking the workloads ready, as the kubelet and controllers would")
	Expect(testenv.MarkWorkloadsReady(ctx, k8sClient, namespace, "c")).To(Succeed())
	p.eventually(func(g Gomega) {
		expectReadyCondition(g, cluster, metav1.ConditionTrue)
		live := &implyv1alpha1.ImplyCluster{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(cluster), live)).To(Succeed())
		g.Expect(meta.IsStatusConditionTrue(live.Status.Conditions, implyv1alpha1.ConditionCertificatesReady)).To(BeTrue())
		g.Expect(meta.IsStatusConditionTrue(live.Status.Conditions, implyv1alpha1.ConditionAuthReady)).To(BeTrue())
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: namespace, Name: specs.DruidCredentialsName("c")}, &corev1.Secret{})).To(Succeed())
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: namespace, Name: specs.GroupTLSSecretName("c", "data")}, &corev1.Secret{})).To(Succeed())
	})

	By("removing a node group and scaling another: the operator patches and deletes what it owns")
	Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(cluster), cluster)).To(Succeed())
	before := cluster.DeepCopy()
	var groups []implyv1alpha1.NodeGroupSpec
	for _, g := range cluster.Spec.NodeGroups {
		if g.Name == "query" {
			g.Replicas = ptr.To[int32](2)
		}
		if g.Name != "hot" {
			groups = append(groups, g)
		}
	}
	cluster.Spec.NodeGroups = groups
	Expect(k8sClient.Patch(ctx, cluster, client.MergeFrom(before))).To(Succeed())
	p.eventually(func(g Gomega) {
		err := k8sClient.Get(ctx, client.ObjectKey{Namespace: namespace, Name: specs.GroupName("c", "hot")}, &appsv1.StatefulSet{})
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "StatefulSet c-hot: %v", err)
		err = k8sClient.Get(ctx, client.ObjectKey{Namespace: namespace, Name: specs.GroupName("c", "hot")}, &policyv1.PodDisruptionBudget{})
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "PodDisruptionBudget c-hot: %v", err)
		var query appsv1.StatefulSet
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: namespace, Name: specs.GroupName("c", "query")}, &query)).To(Succeed())
		g.Expect(query.Spec.Replicas).To(HaveValue(BeEquivalentTo(2)))
		expectReadyCondition(g, cluster, metav1.ConditionFalse)
		var events eventsv1.EventList
		g.Expect(k8sClient.List(ctx, &events, client.InNamespace(namespace))).To(Succeed())
		g.Expect(events.Items).To(ContainElement(HaveField("Reason", "NodeGroupRemoved")))
	})

	p.expectSecureMetrics(namespace)

	By("having been refused nothing")
	Consistently(p.forbidden).WithTimeout(3 * time.Second).Should(BeEmpty())
}

// expectSecureMetrics checks the metrics endpoint serves HTTPS only to callers the apiserver
// authenticates and authorizes, using the operator's own RBAC for the TokenReviews and
// SubjectAccessReviews: 401 without a token or with a forged one, 403 for a ServiceAccount
// without the metrics-reader ClusterRole, 200 for one bound to it. Plain HTTP gets no metrics.
func (p *operatorProcess) expectSecureMetrics(namespace string) {
	GinkgoHelper()
	By("serving metrics over HTTPS to a ServiceAccount bound to " + p.metricsReader + " only")
	clientset, err := kubernetes.NewForConfig(adminCfg)
	Expect(err).NotTo(HaveOccurred())
	reader, err := testenv.ServiceAccountToken(ctx, clientset, namespace, "prometheus", p.metricsReader)
	Expect(err).NotTo(HaveOccurred())
	stranger, err := testenv.ServiceAccountToken(ctx, clientset, namespace, "stranger", "")
	Expect(err).NotTo(HaveOccurred())
	url := fmt.Sprintf("https://127.0.0.1:%d/metrics", p.metricsPort)

	for token, want := range map[string]int{"": http.StatusUnauthorized, stranger: http.StatusForbidden} {
		code, body, err := testenv.HTTPSGetWithToken(url, token)
		Expect(err).NotTo(HaveOccurred())
		Expect(code).To(Equal(want), "a scrape without the metrics-reader role: %s", body)
		Expect(body).NotTo(ContainSubstring("controller_runtime_reconcile_total"))
	}
	// controller-runtime's filter answers a token the apiserver does not know with 500
	// ("Authentication failed"): the TokenReview reports it as an error, not as unauthenticated.
	code, body, err := testenv.HTTPSGetWithToken(url, "forged-token")
	Expect(err).NotTo(HaveOccurred())
	Expect(code).To(BeNumerically(">=", 400), body)
	Expect(body).NotTo(ContainSubstring("controller_runtime_reconcile_total"))
	// The ClusterRoleBinding may take a moment to reach the apiserver's authorizer cache.
	p.eventually(func(g Gomega) {
		code, body, err := testenv.HTTPSGetWithToken(url, reader)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(code).To(Equal(http.StatusOK), body)
		g.Expect(body).To(ContainSubstring(`controller_runtime_reconcile_total{controller="implycluster"`))
	})
	// Go's TLS server answers a plaintext request with 400 (or drops it).
	if code, body, err := testenv.HTTPGet(fmt.Sprintf("http://127.0.0.1:%d/metrics", p.metricsPort)); err == nil {
		Expect(code).To(Equal(http.StatusBadRequest), "plain HTTP on the metrics port: %s", body)
		Expect(body).NotTo(ContainSubstring("controller_runtime_reconcile_total"))
	}
}

// expectReadyCondition checks the cluster's status is current and its Ready condition has status.
func expectReadyCondition(g Gomega, cluster *implyv1alpha1.ImplyCluster, status metav1.ConditionStatus) {
	live := &implyv1alpha1.ImplyCluster{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(cluster), live)).To(Succeed())
	g.Expect(live.Status.ObservedGeneration).To(Equal(live.Generation))
	ready := meta.FindStatusCondition(live.Status.Conditions, implyv1alpha1.ConditionReady)
	g.Expect(ready).NotTo(BeNil())
	g.Expect(ready.ObservedGeneration).To(Equal(live.Generation))
	g.Expect(ready.Status).To(Equal(status), "Ready: %s: %s", ready.Reason, ready.Message)
}

// expectLeaseHeld checks the operator holds the leader-election Lease in namespace.
func (p *operatorProcess) expectLeaseHeld(namespace string) {
	GinkgoHelper()
	p.eventually(func(g Gomega) {
		var lease coordinationv1.Lease
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: namespace, Name: leaseName}, &lease)).To(Succeed())
		g.Expect(lease.Spec.HolderIdentity).To(HaveValue(Not(BeEmpty())))
	})
}

var _ = Describe("The operator with exactly the RBAC of", func() {
	It("the chart's default values reconciles an ImplyCluster in any namespace", func() {
		const release, namespace = "imply-operator", "imply-rbac"
		in := installation{
			objects:        decode(helmTemplate(release, namespace)),
			namespace:      namespace,
			serviceAccount: release,
		}
		p := in.start(in.install())
		p.expectLeaseHeld(namespace)
		p.reconcileFully("apps")
	})

	It("the chart with watchNamespaces reconciles in a watched namespace with namespaced Roles only", func() {
		const release, namespace = "imply-operator-ns", "imply-ns-rbac"
		values := filepath.Join("ci", "watch-namespaces-cert-manager-values.yaml")
		in := installation{
			objects:        decode(helmTemplate(release, namespace, "-f", filepath.Join(chartDir, values))),
			namespace:      namespace,
			serviceAccount: release,
		}
		expectOnlyMetricsAuthClusterWide(in.objects, release)
		kubeconfig := in.install()

		By("checking the ServiceAccount may not read ImplyClusters cluster-wide")
		saConfig, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		Expect(err).NotTo(HaveOccurred())
		saClient, err := client.New(saConfig, client.Options{Scheme: scheme})
		Expect(err).NotTo(HaveOccurred())
		err = saClient.List(ctx, &implyv1alpha1.ImplyClusterList{})
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "cluster-wide list: %v", err)
		Expect(saClient.List(ctx, &implyv1alpha1.ImplyClusterList{}, client.InNamespace("team-a"))).To(Succeed())

		By("creating a cluster in a namespace it does not watch")
		ensureNamespace("team-c", nil)
		for _, s := range testobj.Secrets("team-c") {
			Expect(k8sClient.Create(ctx, s)).To(Succeed())
		}
		unwatched := testobj.ImplyCluster("c", "team-c")
		Expect(k8sClient.Create(ctx, unwatched)).To(Succeed())

		p := in.start(kubeconfig)
		p.expectLeaseHeld(namespace)
		p.reconcileFully("team-a")

		By("leaving the cluster in the unwatched namespace alone")
		Consistently(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(unwatched), unwatched)).To(Succeed())
			g.Expect(unwatched.Status.Conditions).To(BeEmpty())
		}).WithTimeout(2 * time.Second).Should(Succeed())
		Expect(p.forbidden()).To(BeEmpty())
	})

	It("kubectl kustomize config/default reconciles an ImplyCluster", func() {
		in := installation{
			objects:        decode(kustomizeDefault()),
			namespace:      kustomizeNamespace,
			serviceAccount: "imply-operator-controller-manager",
			// In a Pod the Lease's namespace is the Pod's; a process must be told.
			outOfClusterArgs: []string{"--leader-election-namespace=" + kustomizeNamespace},
		}
		p := in.start(in.install())
		p.expectLeaseHeld(kustomizeNamespace)
		p.reconcileFully("kustomize-apps")
	})
})

// environWithout is the test's environment without the named variables, so the operator sees
// only what the test gives it.
func environWithout(names ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		keep := true
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				keep = false
			}
		}
		if keep {
			out = append(out, kv)
		}
	}
	return out
}
