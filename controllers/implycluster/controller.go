package implycluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/apply"
	"github.com/imply-operator/imply-operator/controllers/internal/echo"
	"github.com/imply-operator/imply-operator/controllers/internal/index"
	"github.com/imply-operator/imply-operator/controllers/internal/setup"
	"github.com/imply-operator/imply-operator/pkg/druid"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// Reconciler turns an ImplyCluster into the Imply Manager, one StatefulSet per node
// group, their Services, PodDisruptionBudgets and configuration, and reports their state.
type Reconciler struct {
	client.Client
	// APIReader reads referenced Secrets without caching them.
	APIReader client.Reader
	// ForeignSecrets reads the cache of the Secrets the operator does not manage (metadata only):
	// with the manager's cache of its own, it tells a Secret absent without asking the
	// apiserver. Nil asks the apiserver.
	ForeignSecrets client.Reader
	Scheme         *runtime.Scheme
	Recorder       events.EventRecorder
	// Clock tells the time for certificate issuance and renewal, maintenance windows,
	// password rotation and progress deadlines.
	Clock clock.PassiveClock
	// NewAPI builds the client of the cluster's coordinator, for password rotations.
	NewAPI func(druid.Config) (druid.API, error)
	// ProgressDeadline is how long a group may take to roll before the rollout halts as
	// Degraded; zero means rollout.DefaultProgressDeadline.
	ProgressDeadline time.Duration

	// templates remembers which live workloads run the wanted pod templates (the cache holds
	// workloads without their pod spec).
	templates templateMemo

	// certManagerInstalled is whether cert-manager's Certificate CRD was found at setup, which
	// spec.security.tls.ca.issuerRef needs.
	certManagerInstalled bool
}

// +kubebuilder:rbac:groups=imply.operator.dev,resources=implyclusters;authtokens;securitypolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=imply.operator.dev,resources=implyclusters/status,verbs=get;patch
// +kubebuilder:rbac:groups=apps,resources=deployments;statefulsets,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=core,resources=configmaps;services,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=core,resources=secrets,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=networking.k8s.io,resources=ingresses;networkpolicies,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=cert-manager.io,resources=certificates,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=cert-manager.io,resources=certificates/status,verbs=patch

// Reconcile brings one ImplyCluster's owned objects to its spec and reports their state: its
// phases run in order over one scope; a problem with the user's input stops them before anything
// live changes; the status is then computed from what they gathered and written once.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var cluster implyv1alpha1.ImplyCluster
	if err := r.Get(ctx, req.NamespacedName, &cluster); err != nil {
		if apierrors.IsNotFound(err) {
			forgetClusterMetrics(req.Namespace, req.Name)
			r.templates.forgetCluster(req.Namespace, req.Name)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !cluster.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil // owner references garbage-collect everything it owns
	}
	s := &scope{before: cluster.DeepCopy(), cluster: &cluster}
	// Every phase judges the workloads, and the Secrets the spec references, as first read.
	phaseCtx := withUserSecrets(withSnapshot(ctx, r.Client), r.APIReader, &cluster)
	var requeue time.Duration
	for _, p := range []phase{r.checkSecretsPhase, r.podSettingsPhase, r.revisionKeyPhase, r.podSecretsPhase, r.certificatesPhase, r.metadataTLSPhase, r.authPhase, r.workloadsPhase} {
		d, err := p(phaseCtx, s)
		if errors.Is(err, errCacheBehind) {
			// The workload's update is on its way and wakes the cluster; look again soon in
			// case it does not. Nothing else of this reconcile is written.
			log.FromContext(ctx).V(1).Info("Waiting for the cache", "reason", err.Error())
			return ctrl.Result{RequeueAfter: cacheBehindRetry}, nil
		}
		if err != nil {
			return ctrl.Result{}, err
		}
		requeue = soonest(requeue, d)
		if s.stopped {
			break
		}
	}
	if apierrors.IsConflict(s.obs.ApplyError) {
		// An object changed since this reconcile read it (apply.Apply's atBase, or a patch's
		// optimistic lock): the reconcile starts over from what is there now. Nothing failed, so
		// the status does not say so (Ready=False, ApplyFailed, for one retry).
		return ctrl.Result{}, s.obs.ApplyError
	}
	if err := r.observeWorkloads(ctx, &cluster, &s.obs); err != nil {
		return ctrl.Result{}, err
	}
	computeStatus(&cluster, s.obs)
	if s.obs.Rollout != nil && s.obs.ApplyError == nil {
		setRolloutStatus(&cluster, s.obs.Rollout)
		r.confirmRolloutEvent(ctx, &cluster, s.obs.Rollout)
	}
	recordClusterMetrics(&cluster, s.obs.TLS)
	if err := apply.PatchStatusIfChanged(ctx, r.Client, s.before, &cluster); err != nil {
		return ctrl.Result{}, err
	}
	if s.obs.ApplyError != nil {
		return ctrl.Result{}, s.obs.ApplyError
	}
	if s.obs.Rollout != nil {
		r.recordRollout(&cluster, s.obs.Rollout)
	}
	return ctrl.Result{RequeueAfter: requeue}, nil
}

// untilRenewal is how long until the earliest leaf renewal, or zero without TLS.
func (r *Reconciler) untilRenewal(tls *tlsMaterial) time.Duration {
	if tls == nil || tls.NextRenewal.IsZero() {
		return 0
	}
	if d := tls.NextRenewal.Sub(r.Clock.Now()); d > 0 {
		return d
	}
	// Overdue: an issuer (cert-manager) renews it and its events wake the cluster; look again
	// now and then rather than in a tight loop.
	return time.Minute
}

// liveCommonConfig is the cluster's common ConfigMap as the apiserver has it, nil when there is
// none (absent) or it is not this cluster's: it records the ZooKeeper base path a running
// cluster keeps. A copy the cache does not hold (one without the operator's labels) is read
// uncached, so a running cluster never moves to a new path because a label went missing; for a
// cluster never reconciled, one the cache does not hold is absent without asking the apiserver,
// and the common ConfigMap made for its absence is only created (see readOwnConfigMap).
func (r *Reconciler) liveCommonConfig(ctx context.Context, c *implyv1alpha1.ImplyCluster) (live *corev1.ConfigMap, absent bool, err error) {
	key := client.ObjectKey{Namespace: c.Namespace, Name: specs.CommonConfigName(c.Name)}
	var cm corev1.ConfigMap
	err = r.Get(ctx, key, &cm)
	if apierrors.IsNotFound(err) && !neverReconciled(c) {
		err = r.APIReader.Get(ctx, key, &cm)
	}
	if apierrors.IsNotFound(err) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("while reading ConfigMap %s: %w", key.Name, err)
	}
	if !metav1.IsControlledBy(&cm, c) {
		return nil, false, nil
	}
	return &cm, false, nil
}

// createOnlyConfigMap marks ConfigMap name of objs as derived from its absence
// (apply.DerivedFrom): apply only creates it, never writes it over one that exists.
func createOnlyConfigMap(objs []client.Object, name string) {
	for _, obj := range objs {
		if cm, ok := obj.(*corev1.ConfigMap); ok && cm.Name == name {
			apply.DerivedFrom(cm, &corev1.ConfigMap{})
		}
	}
}

// applyWorkloads creates or patches every object the cluster owns and deletes those of node
// groups removed from the spec. Pod-template changes go through the rollout gate (planRollout):
// only the step it allows changes its template now.
//
// Changes the apiserver does not allow in place are returned as drift, not as errors: the rest
// of the object is still applied. An object of an owned name that is not the cluster's (see
// apply.CheckOwner), or a Secret the spec names as the user's, is left untouched and returned as
// a conflict; every other object is still applied.
func (r *Reconciler) applyWorkloads(ctx context.Context, cluster *implyv1alpha1.ImplyCluster, tls *tlsMaterial, metadataTLS *metadataMaterial, auth *authMaterial, secrets podSecretRevisions) (*rolloutPlan, []string, []*apply.ConflictError, error) {
	liveCommon, absent, err := r.liveCommonConfig(ctx, cluster)
	if err != nil {
		return nil, nil, nil, err
	}
	desired, ignored := desiredWorkloads(cluster, tls, metadataTLS, auth, secrets, liveCommon)
	if absent {
		createOnlyConfigMap(desired, specs.CommonConfigName(cluster.Name)) // a new ZooKeeper path is never written over a kept one
	}
	plan, err := r.planRollout(ctx, cluster, desired, tls)
	if err != nil {
		return nil, nil, nil, err
	}
	// The ignored keys come from the spec alone: warn once per spec generation, not on every
	// reconcile.
	if len(ignored) > 0 && cluster.Status.ObservedGeneration != cluster.Generation {
		r.Recorder.Eventf(cluster, nil, corev1.EventTypeWarning, implyv1alpha1.EventRuntimePropertiesIgnored, "Reconcile",
			"Runtime properties owned by the operator were not applied: %v", ignored)
	}
	logger := log.FromContext(ctx)
	userSecrets := userSecretFields(cluster)
	var errs []error
	var drift []string
	var conflicts []*apply.ConflictError
	for _, obj := range desired {
		if secret, ok := obj.(*corev1.Secret); ok {
			if field, ok := userSecrets[secret.Name]; ok {
				conflicts = append(conflicts, &apply.ConflictError{Kind: "Secret", Name: secret.Name, ReferencedBy: field, Owner: "ImplyCluster " + cluster.Name})
				continue
			}
			specs.MarkRetained(cluster, secret)
		}
		sent := sentTemplate(obj)
		result, err := apply.Apply(ctx, workloadClient{Client: r.Client, uncached: r.APIReader}, r.APIReader, r.Scheme, cluster, obj)
		if result == apply.Created && sent != nil {
			r.rememberCreated(*sent, obj)
		}
		var immutable *apply.ImmutableFieldError
		if errors.As(err, &immutable) {
			drift = append(drift, immutable.Message)
			err = nil
		}
		if conflict := apply.AsConflict(err); conflict != nil {
			conflicts = append(conflicts, conflict)
			continue
		}
		if err != nil {
			// desired lists what pods mount before the workloads that mount it: stop here, so
			// no pod template refers to material that is not in place (such as after a
			// conflict with a cache that was behind).
			errs = append(errs, fmt.Errorf("while applying %T %s: %w", obj, obj.GetName(), err))
			break
		}
		if result != apply.Unchanged {
			logger.V(1).Info("Applied owned object", "kind", fmt.Sprintf("%T", obj), "name", obj.GetName(), "result", result)
		}
	}
	if err := r.pruneRemovedGroups(ctx, cluster); err != nil {
		errs = append(errs, err)
	}
	if err := r.pruneManagerSigningCA(ctx, cluster); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		if err := r.pruneOptional(ctx, cluster, desired); err != nil {
			errs = append(errs, err)
		}
	}
	return plan, drift, conflicts, errors.Join(errs...)
}

// userSecretFields maps each Secret c's spec names as the user's to the field naming it: the
// operator reads those and never writes them, whatever their names.
func userSecretFields(c *implyv1alpha1.ImplyCluster) map[string]string {
	out := map[string]string{}
	for _, ref := range specs.ReferencedSecrets(c) {
		if _, seen := out[ref.Name]; !seen {
			out[ref.Name] = ref.Field
		}
	}
	return out
}

// observeWorkloads reads the live StatefulSets and manager Deployment for the status.
func (r *Reconciler) observeWorkloads(ctx context.Context, cluster *implyv1alpha1.ImplyCluster, obs *observedWorkloads) error {
	obs.StatefulSets = map[string]*appsv1.StatefulSet{}
	for _, g := range cluster.Spec.NodeGroups {
		var sts appsv1.StatefulSet
		err := r.Get(ctx, client.ObjectKey{Namespace: cluster.Namespace, Name: specs.GroupName(cluster.Name, g.Name)}, &sts)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		if metav1.IsControlledBy(&sts, cluster) {
			obs.StatefulSets[g.Name] = &sts
		}
	}
	var manager appsv1.Deployment
	err := r.Get(ctx, client.ObjectKey{Namespace: cluster.Namespace, Name: specs.ManagerName(cluster.Name)}, &manager)
	if err == nil && metav1.IsControlledBy(&manager, cluster) {
		obs.Manager = &manager
	} else if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return nil
}

// Setup registers the ImplyCluster reconciler with mgr: it watches ImplyClusters, the objects
// they own, and Secrets (whose values are cached only for the operator's own, see the cache
// package), mapping a
// Secret to the clusters that reference or own it. cert-manager Certificates are watched only
// when their CRD is installed at setup; without it, a cluster with issuerRef reports
// CertManagerNotInstalled.
func Setup(mgr ctrl.Manager, opts setup.Options) error {
	// The watch events of the objects a reconcile created wake nothing: that reconcile wrote
	// them as they are (package echo).
	creates := echo.NewCreates(opts.Clock)
	r := &Reconciler{
		Client:    apply.WithOwnStatusWrites(creates.Client(mgr.GetClient()), mgr.GetAPIReader()),
		APIReader: mgr.GetAPIReader(),
		Scheme:    mgr.GetScheme(),
		Recorder:  mgr.GetEventRecorder(setup.EventSource),
		Clock:     opts.Clock,
		NewAPI:    opts.NewDruidAPI,
	}
	if opts.ForeignSecrets != nil {
		r.ForeignSecrets = opts.ForeignSecrets
	}
	installed, err := certManagerInstalled(mgr.GetRESTMapper())
	if err != nil {
		return err
	}
	r.certManagerInstalled = installed
	mgr.GetLogger().WithName("implycluster").Info("cert-manager support", "certificateCRDInstalled", installed)
	skipEchoes := builder.WithPredicates(creates.SkipEchoes())
	b := ctrl.NewControllerManagedBy(mgr).
		// Annotations trigger too: rotate-ca and restart are annotations.
		For(&implyv1alpha1.ImplyCluster{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Owns(&appsv1.StatefulSet{}, skipEchoes).
		Owns(&appsv1.Deployment{}, skipEchoes).
		Owns(&corev1.Service{}, skipEchoes).
		Owns(&corev1.ConfigMap{}, skipEchoes).
		Owns(&policyv1.PodDisruptionBudget{}, skipEchoes).
		Owns(&networkingv1.NetworkPolicy{}, skipEchoes).
		Owns(&networkingv1.Ingress{}, skipEchoes)
	if installed {
		b = b.Owns(&cmv1.Certificate{}, skipEchoes)
	}
	b = b.Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(clustersReferencingSecret(mgr.GetClient())), skipEchoes)
	return opts.WatchForeignSecrets(b, clustersReferencingSecret(mgr.GetClient())).
		Watches(&implyv1alpha1.AuthToken{}, handler.EnqueueRequestsFromMapFunc(index.ClustersNamingObject(mgr.GetClient(), index.ClusterTokenRef))).
		Watches(&implyv1alpha1.SecurityPolicy{}, handler.EnqueueRequestsFromMapFunc(index.ClustersNamingObject(mgr.GetClient(), index.ClusterPolicyRef))).
		Named("implycluster").
		Complete(r)
}
