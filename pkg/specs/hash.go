package specs

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
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

// SecretRevision returns a short revision (the first 16 hex digits of an HMAC-SHA256 keyed with
// the cluster's revision key, see RevisionKey) of the named secret material pods mount, such as
// passwords, the agent token or a private key. Names are taken in order and every name and value
// is length-prefixed, so the result depends only on the material. The revision lands in
// pod-template annotations that anyone who can read the workload sees; keyed, it lets no one test
// a guess of a password against it, and a cluster's revisions say nothing about another's. It
// fails, without hashing, for a key shorter than RevisionKeyBytes.
func SecretRevision(key []byte, material map[string][]byte) (string, error) {
	if len(key) < RevisionKeyBytes {
		return "", fmt.Errorf("while computing a revision: the revision key has %d bytes, want at least %d", len(key), RevisionKeyBytes)
	}
	h := hmac.New(sha256.New, key)
	for _, name := range slices.Sorted(maps.Keys(material)) {
		writeField(h, []byte(name))
		writeField(h, material[name])
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

func writeField(h hash.Hash, b []byte) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(b)))
	h.Write(n[:])
	h.Write(b)
}
