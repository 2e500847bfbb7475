package controllers

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

var _ = Describe("The operator's cache", func() {
	It("keeps the values of its own Secrets only", func() {
		ns := newNamespace("cache")
		foreign := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "someone-elses", Namespace: ns},
			StringData: map[string]string{"password": "not-for-the-operator"},
		}
		own := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "ours", Namespace: ns, Labels: map[string]string{"app.kubernetes.io/managed-by": "imply-operator"}},
			StringData: map[string]string{"ca.crt": "pem"},
		}
		Expect(k8sClient.Create(testCtx, foreign)).To(Succeed())
		Expect(k8sClient.Create(testCtx, own)).To(Succeed())

		Eventually(func(g Gomega) {
			var cached corev1.Secret
			g.Expect(cachedClient.Get(testCtx, client.ObjectKeyFromObject(own), &cached)).To(Succeed())
			g.Expect(cached.Data).To(HaveKeyWithValue("ca.crt", []byte("pem")))
			g.Expect(cached.ManagedFields).To(BeEmpty())
			g.Expect(cachedClient.Get(testCtx, client.ObjectKeyFromObject(foreign), &cached)).To(Succeed())
			g.Expect(cached.Data).To(BeEmpty())
			g.Expect(cached.ManagedFields).To(BeEmpty())
		}).WithTimeout(settle).Should(Succeed())
	})

	It("keeps no managedFields", func() {
		ns := newNamespace("cache-fields")
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm", Namespace: ns}, Data: map[string]string{"k": "v"}}
		Expect(k8sClient.Create(testCtx, cm)).To(Succeed())
		Expect(cm.ManagedFields).NotTo(BeEmpty(), "the apiserver records managedFields")
		Eventually(func(g Gomega) {
			var cached corev1.ConfigMap
			g.Expect(cachedClient.Get(testCtx, client.ObjectKeyFromObject(cm), &cached)).To(Succeed())
			g.Expect(cached.Data).To(HaveKeyWithValue("k", "v"))
			g.Expect(cached.ManagedFields).To(BeEmpty())
		}).WithTimeout(settle).Should(Succeed())
	})
})
