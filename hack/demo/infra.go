package main

import (
	"context"
	"fmt"
	"io"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// demoSecrets are stand-ins for the Secrets the ImplyCluster sample references (a license, the
// metadata-store credentials, the deep-storage credentials). Their values are placeholders: the
// simulated cluster runs no real Imply, so nothing ever checks them.
func demoSecrets() []*corev1.Secret {
	mk := func(name string, data map[string]string) *corev1.Secret {
		return &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: Namespace, Labels: map[string]string{"imply.operator.dev/demo": "placeholder"}},
			StringData: data,
		}
	}
	return []*corev1.Secret{
		mk("imply-license", map[string]string{"IMPLY_MANAGER_LICENSE_KEY": "demo-placeholder-license"}),
		mk("imply-metadata-credentials", map[string]string{"username": "imply", "password": "demo-placeholder-password"}),
		mk("imply-deep-storage", map[string]string{"AWS_ACCESS_KEY_ID": "demo", "AWS_SECRET_ACCESS_KEY": "demo-placeholder"}),
	}
}

// demoPersistentVolumes are the volumes the ImplyCluster samples' node groups claim, one per
// replica with the group's size and storage class. The simulated cluster has no provisioner, so
// the demo stands in for one; the PV controller binds the claims to them.
func demoPersistentVolumes(samples []sample) ([]*corev1.PersistentVolume, error) {
	var pvs []*corev1.PersistentVolume
	for _, s := range samples {
		if s.obj.GetKind() != "ImplyCluster" {
			continue
		}
		var c implyv1alpha1.ImplyCluster
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(s.obj.Object, &c); err != nil {
			return nil, fmt.Errorf("reading %s: %w", s.file, err)
		}
		for _, g := range c.Spec.NodeGroups {
			if g.Storage == nil {
				continue
			}
			for i := range ptr.Deref(g.Replicas, 1) {
				pvs = append(pvs, &corev1.PersistentVolume{
					ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("demo-%s-%s-%d", c.Name, g.Name, i)},
					Spec: corev1.PersistentVolumeSpec{
						Capacity:                      corev1.ResourceList{corev1.ResourceStorage: g.Storage.Size.DeepCopy()},
						AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
						StorageClassName:              ptr.Deref(g.Storage.StorageClassName, ""),
						PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
						PersistentVolumeSource: corev1.PersistentVolumeSource{
							HostPath: &corev1.HostPathVolumeSource{Path: "/var/lib/imply-demo/" + g.Name},
						},
					},
				})
			}
		}
	}
	return pvs, nil
}

// createInfra creates the placeholder Secrets and volumes the samples need.
func createInfra(ctx context.Context, c client.Client, samples []sample, out io.Writer) error {
	pvs, err := demoPersistentVolumes(samples)
	if err != nil {
		return err
	}
	objs := []client.Object{}
	for _, s := range demoSecrets() {
		objs = append(objs, s)
	}
	for _, pv := range pvs {
		objs = append(objs, pv)
	}
	for _, obj := range objs {
		if err := c.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating %T %s: %w", obj, obj.GetName(), err)
		}
	}
	total := resource.Quantity{}
	for _, pv := range pvs {
		total.Add(pv.Spec.Capacity[corev1.ResourceStorage])
	}
	fmt.Fprintf(out, "  created %d placeholder Secrets and %d PersistentVolumes (%s) standing in for a real cluster's\n",
		len(demoSecrets()), len(pvs), total.String())
	return nil
}
