package specs

import (
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
)

func TestWithAgentTokenMountsFileAndEnvByReference(t *testing.T) {
	g := NewWithT(t)
	pod := &corev1.PodSpec{Containers: []corev1.Container{{Name: "agent"}}}
	WithAgentToken(pod, "agent-token-token", "auth-token")

	g.Expect(pod.Volumes).To(HaveLen(1))
	g.Expect(pod.Volumes[0].Secret.SecretName).To(Equal("agent-token-token"))
	g.Expect(pod.Volumes[0].Secret.Items).To(Equal([]corev1.KeyToPath{{Key: "auth-token", Path: "auth-token"}}))
	g.Expect(pod.Containers[0].VolumeMounts).To(ConsistOf(corev1.VolumeMount{Name: "auth-token", MountPath: "/etc/imply/auth", ReadOnly: true}))
	env := pod.Containers[0].Env
	g.Expect(env).To(HaveLen(1))
	g.Expect(env[0].Name).To(Equal("IMPLY_MANAGER_AUTH_TOKEN"))
	g.Expect(env[0].Value).To(BeEmpty())
	g.Expect(env[0].ValueFrom.SecretKeyRef.Name).To(Equal("agent-token-token"))
	g.Expect(env[0].ValueFrom.SecretKeyRef.Key).To(Equal("auth-token"))
}
