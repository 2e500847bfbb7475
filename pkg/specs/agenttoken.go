package specs

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

// Where the agent token reaches the manager and the agents.
const (
	// AgentTokenMountPath is the directory of the token file auth-token.
	AgentTokenMountPath = "/etc/imply/auth"
	// AgentTokenFile is the token file's name under AgentTokenMountPath.
	AgentTokenFile = "auth-token"
	// EnvAgentToken carries the token as an environment variable.
	EnvAgentToken = "IMPLY_MANAGER_AUTH_TOKEN"
	// AgentTokenVolumeName is the volume of the token Secret.
	AgentTokenVolumeName = "auth-token"
)

// WithAgentToken gives the pod's first container the agent token from key of secretName: as
// the file /etc/imply/auth/auth-token and as IMPLY_MANAGER_AUTH_TOKEN, both by reference.
func WithAgentToken(pod *corev1.PodSpec, secretName, key string) {
	pod.Volumes = append(pod.Volumes, corev1.Volume{
		Name: AgentTokenVolumeName,
		VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName:  secretName,
			Items:       []corev1.KeyToPath{{Key: key, Path: AgentTokenFile}},
			DefaultMode: ptr.To(secretFileMode),
		}},
	})
	container := &pod.Containers[0]
	container.VolumeMounts = append(container.VolumeMounts, corev1.VolumeMount{Name: AgentTokenVolumeName, MountPath: AgentTokenMountPath, ReadOnly: true})
	container.Env = append(container.Env, secretEnv(EnvAgentToken, secretName, key))
}
