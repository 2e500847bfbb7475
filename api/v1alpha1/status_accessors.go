package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// ConditionsAccessor is implemented by every kind of this API, so reconcilers can manage
// conditions and observedGeneration in one way.
// +kubebuilder:object:generate=false
type ConditionsAccessor interface {
	GetConditions() []metav1.Condition
	SetConditions([]metav1.Condition)
	GetObservedGeneration() int64
	SetObservedGeneration(int64)
}

// GetConditions returns the status conditions.
func (c *ImplyCluster) GetConditions() []metav1.Condition { return c.Status.Conditions }

// SetConditions replaces the status conditions.
func (c *ImplyCluster) SetConditions(conds []metav1.Condition) { c.Status.Conditions = conds }

// GetObservedGeneration returns status.observedGeneration.
func (c *ImplyCluster) GetObservedGeneration() int64 { return c.Status.ObservedGeneration }

// SetObservedGeneration sets status.observedGeneration.
func (c *ImplyCluster) SetObservedGeneration(g int64) { c.Status.ObservedGeneration = g }

// GetConditions returns the status conditions.
func (t *AuthToken) GetConditions() []metav1.Condition { return t.Status.Conditions }

// SetConditions replaces the status conditions.
func (t *AuthToken) SetConditions(conds []metav1.Condition) { t.Status.Conditions = conds }

// GetObservedGeneration returns status.observedGeneration.
func (t *AuthToken) GetObservedGeneration() int64 { return t.Status.ObservedGeneration }

// SetObservedGeneration sets status.observedGeneration.
func (t *AuthToken) SetObservedGeneration(g int64) { t.Status.ObservedGeneration = g }

// GetConditions returns the status conditions.
func (p *SecurityPolicy) GetConditions() []metav1.Condition { return p.Status.Conditions }

// SetConditions replaces the status conditions.
func (p *SecurityPolicy) SetConditions(conds []metav1.Condition) { p.Status.Conditions = conds }

// GetObservedGeneration returns status.observedGeneration.
func (p *SecurityPolicy) GetObservedGeneration() int64 { return p.Status.ObservedGeneration }

// SetObservedGeneration sets status.observedGeneration.
func (p *SecurityPolicy) SetObservedGeneration(g int64) { p.Status.ObservedGeneration = g }

// GetConditions returns the status conditions.
func (r *DruidRole) GetConditions() []metav1.Condition { return r.Status.Conditions }

// SetConditions replaces the status conditions.
func (r *DruidRole) SetConditions(conds []metav1.Condition) { r.Status.Conditions = conds }

// GetObservedGeneration returns status.observedGeneration.
func (r *DruidRole) GetObservedGeneration() int64 { return r.Status.ObservedGeneration }

// SetObservedGeneration sets status.observedGeneration.
func (r *DruidRole) SetObservedGeneration(g int64) { r.Status.ObservedGeneration = g }
