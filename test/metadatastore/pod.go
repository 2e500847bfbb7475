package metadatastore

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// objects are the ConfigMaps and Secrets a pod may reference, by name.
type objects struct {
	ConfigMaps map[string]*corev1.ConfigMap
	Secrets    map[string]*corev1.Secret
}

// rebuildPodFiles writes what the pod's first container would see into root: for each volume
// mount of a ConfigMap or Secret volume, every key of that object as root/<mountPath>/<key>
// (Secret files with the volume's mode). A mount of an object that is not in objs fails: the
// pod would not start. Other volumes (data) are left out.
func rebuildPodFiles(pod *corev1.PodSpec, objs objects, root string) error {
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
	}
	for _, m := range pod.Containers[0].VolumeMounts {
		v, ok := volumes[m.Name]
		if !ok {
			return fmt.Errorf("mount %s has no volume", m.Name)
		}
		var (
			files = map[string][]byte{}
			mode  = os.FileMode(0o644)
		)
		switch {
		case v.ConfigMap != nil:
			cm, ok := objs.ConfigMaps[v.ConfigMap.Name]
			if !ok {
				return fmt.Errorf("volume %s mounts ConfigMap %s, which was not built", v.Name, v.ConfigMap.Name)
			}
			for k, val := range cm.Data {
				files[k] = []byte(val)
			}
		case v.Secret != nil:
			s, ok := objs.Secrets[v.Secret.SecretName]
			if !ok {
				return fmt.Errorf("volume %s mounts Secret %s, which was not built", v.Name, v.Secret.SecretName)
			}
			if !m.ReadOnly {
				return fmt.Errorf("secret volume %s is mounted writable", v.Name)
			}
			files = s.Data
			if v.Secret.DefaultMode != nil {
				mode = os.FileMode(*v.Secret.DefaultMode)
			}
		default:
			continue
		}
		dir := filepath.Join(root, m.MountPath)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		for k, b := range files {
			if err := os.WriteFile(filepath.Join(dir, k), b, mode); err != nil {
				return err
			}
		}
	}
	return nil
}

// podEnv resolves the first container's environment as the kubelet would: values, and
// secretKeyRefs from objs. A reference to a missing Secret or key fails.
func podEnv(pod *corev1.PodSpec, objs objects) ([]string, error) {
	var env []string
	for _, e := range pod.Containers[0].Env {
		switch {
		case e.ValueFrom == nil:
			env = append(env, e.Name+"="+e.Value)
		case e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			s, ok := objs.Secrets[ref.Name]
			if !ok {
				return nil, fmt.Errorf("env %s refers to Secret %s, which was not built", e.Name, ref.Name)
			}
			v, ok := s.Data[ref.Key]
			if !ok {
				return nil, fmt.Errorf("env %s refers to key %s of Secret %s, which has none", e.Name, ref.Key, ref.Name)
			}
			env = append(env, e.Name+"="+string(v))
		default:
			return nil, fmt.Errorf("env %s has a source this test does not resolve", e.Name)
		}
	}
	return env, nil
}

// probe is the compiled JdbcProbe and the drivers' class path.
type probe struct {
	classDir string
	drivers  []string
}

// compileProbe compiles testdata/JdbcProbe.java into dir with javac.
func compileProbe(dir string, drivers []string) (*probe, error) {
	src, err := filepath.Abs(filepath.Join("testdata", "JdbcProbe.java"))
	if err != nil {
		return nil, err
	}
	if err := run(exec.Command("javac", "-d", dir, src)); err != nil {
		return nil, fmt.Errorf("while compiling the JDBC probe: %w", err)
	}
	return &probe{classDir: dir, drivers: drivers}, nil
}

// connect runs the probe on the rebuilt pod files under root with the pod's environment: it
// reads root's common.runtime.properties and connects as Druid would. It returns the probe's
// output and whether it connected.
// jvmArgs are JVM options (such as a default trust store standing in for the system roots).
func (p *probe) connect(root, propertiesFile string, env []string, query string, jvmArgs ...string) (string, bool) {
	cp := strings.Join(append(append([]string(nil), p.drivers...), p.classDir), string(os.PathListSeparator))
	args := append(append([]string(nil), jvmArgs...), "-cp", cp, "JdbcProbe", root, propertiesFile, query)
	cmd := exec.Command("java", args...)
	// Only the pod's environment (and what java needs to run), as in the container.
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + root}, env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	ok := false
	for _, line := range strings.Split(out.String(), "\n") {
		ok = ok || strings.HasPrefix(line, "OK ")
	}
	return strings.TrimSpace(out.String()), err == nil && ok
}
