package admission

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// expectUpdateRejected asserts an update failed as Invalid at field, with message in its text.
func expectUpdateRejected(err error, field, message string) {
	GinkgoHelper()
	Expect(err).To(HaveOccurred(), "the API server admitted the update; it must reject it at %s: %s", field, message)
	Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want an Invalid (422) error, got: %v", err)
	Expect(err.Error()).To(ContainSubstring(field))
	Expect(err.Error()).To(ContainSubstring(message))
	expectCause(err, field, message)
}

var _ = Describe("Immutable fields", func() {
	var ns string

	BeforeEach(func() {
		ns = newNamespace()
	})

	Context("of a DruidRole", func() {
		var role *implyv1alpha1.DruidRole

		BeforeEach(func() {
			role = &implyv1alpha1.DruidRole{
				ObjectMeta: metav1.ObjectMeta{Name: "sales-read", Namespace: ns},
				Spec: implyv1alpha1.DruidRoleSpec{
					ClusterRef: implyv1alpha1.LocalObjectReference{Name: "imply"},
					RoleName:   "sales-read",
					Permissions: []implyv1alpha1.DruidPermission{{
						Resource: implyv1alpha1.DruidResource{Type: "DATASOURCE", Name: "sales.*"},
						Action:   implyv1alpha1.DruidActionRead,
					}},
				},
			}
			Expect(k8sClient.Create(ctx, role)).To(Succeed())
		})

		It("reject a change of roleName", func() {
			role.Spec.RoleName = "sales-write"
			expectUpdateRejected(k8sClient.Update(ctx, role), "spec.roleName", "roleName is immutable")
		})

		It("reject removing roleName, which would fall back to metadata.name", func() {
			role.Spec.RoleName = ""
			expectUpdateRejected(k8sClient.Update(ctx, role), "spec.roleName", "roleName is immutable")
		})

		It("reject a change of clusterRef", func() {
			role.Spec.ClusterRef.Name = "imply-2"
			expectUpdateRejected(k8sClient.Update(ctx, role), "spec.clusterRef", "clusterRef is immutable")
		})

		It("leave the mutable fields mutable", func() {
			role.Spec.Users = []string{"pivot-sales"}
			role.Spec.Permissions = append(role.Spec.Permissions, implyv1alpha1.DruidPermission{
				Resource: implyv1alpha1.DruidResource{Type: "STATE", Name: "STATE"},
				Action:   implyv1alpha1.DruidActionRead,
			})
			role.Spec.DeletionPolicy = implyv1alpha1.DeletionPolicyRetain
			Expect(k8sClient.Update(ctx, role)).To(Succeed())
		})
	})

	Context("of an AuthToken", func() {
		newDruidToken := func() *implyv1alpha1.AuthToken {
			return &implyv1alpha1.AuthToken{
				ObjectMeta: metav1.ObjectMeta{Name: "pivot-sales", Namespace: ns},
				Spec: implyv1alpha1.AuthTokenSpec{
					Type:       implyv1alpha1.AuthTokenDruid,
					ClusterRef: &implyv1alpha1.LocalObjectReference{Name: "imply"},
					Username:   "pivot-sales",
				},
			}
		}

		It("reject a change of type", func() {
			token := &implyv1alpha1.AuthToken{
				ObjectMeta: metav1.ObjectMeta{Name: "imply-agent-token", Namespace: ns},
				Spec:       implyv1alpha1.AuthTokenSpec{Type: implyv1alpha1.AuthTokenAgent},
			}
			Expect(k8sClient.Create(ctx, token)).To(Succeed())
			// A Druid token needs clusterRef and username; adding them trips their own
			// immutability rules too, but the type rule must report spec.type.
			token.Spec.Type = implyv1alpha1.AuthTokenDruid
			token.Spec.ClusterRef = &implyv1alpha1.LocalObjectReference{Name: "imply"}
			token.Spec.Username = "pivot-sales"
			expectUpdateRejected(k8sClient.Update(ctx, token), "spec.type", "type is immutable")
		})

		It("reject a change of username", func() {
			token := newDruidToken()
			Expect(k8sClient.Create(ctx, token)).To(Succeed())
			token.Spec.Username = "pivot-marketing"
			expectUpdateRejected(k8sClient.Update(ctx, token), "spec.username", "username is immutable")
		})

		It("reject a change of clusterRef", func() {
			token := newDruidToken()
			Expect(k8sClient.Create(ctx, token)).To(Succeed())
			token.Spec.ClusterRef.Name = "imply-2"
			expectUpdateRejected(k8sClient.Update(ctx, token), "spec.clusterRef", "clusterRef is immutable")
		})

		It("leave the mutable fields mutable", func() {
			token := newDruidToken()
			Expect(k8sClient.Create(ctx, token)).To(Succeed())
			token.Spec.Roles = []string{"sales-read"}
			token.Spec.Datasources = []string{"sales"}
			token.Spec.Rotation = &implyv1alpha1.RotationSpec{Period: metav1.Duration{Duration: 720 * time.Hour}}
			Expect(k8sClient.Update(ctx, token)).To(Succeed())
		})
	})
})
