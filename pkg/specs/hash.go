package specs

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"maps"
	"slices"
	"sort"

	corev1 "k8s.io/api/core/v1"
)

// ConfigRevision returns a short, stable hash (the first 16 hex digits of a SHA-256) of the
// ConfigMaps' names and contents, for the config-revision pod-template annotation. ConfigMaps
// are taken in name order and their data and binaryData in key order, and every field is
// length-prefixed, so the result depends only on what the pods would mount. nil entries are
// skipped.
func ConfigRevision(cms ...*corev1.ConfigMap) string {
	sorted := make([]*corev1.ConfigMap, 0, len(cms))
	for _, cm := range cms {
		if cm != nil {
			sorted = append(sorted, cm)
		}
	}
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })

	h := sha256.New()
	for _, cm := range sorted {
		writeField(h, []byte("configmap"))
		writeField(h, []byte(cm.Name))
		for _, k := range slices.Sorted(maps.Keys(cm.Data)) {
			writeField(h, []byte("data"))
			writeField(h, []byte(k))
			writeField(h, []byte(cm.Data[k]))
		}
		for _, k := range slices.Sorted(maps.Keys(cm.BinaryData)) {
			writeField(h, []byte("binaryData"))
			writeField(h, []byte(k))
			writeField(h, cm.BinaryData[k])
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func writeField(h hash.Hash, b []byte) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(b)))
	h.Write(n[:])
	h.Write(b)
}
