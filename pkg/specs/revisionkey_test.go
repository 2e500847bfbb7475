package specs

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
)

func TestSecretRevision(t *testing.T) {
	g := NewWithT(t)
	key := bytes.Repeat([]byte{7}, RevisionKeyBytes)
	material := map[string][]byte{"admin-password": []byte("hunter2"), "agent-token": []byte("tok")}
	rev, err := SecretRevision(key, material)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(rev).To(MatchRegexp(`^[0-9a-f]{16}$`))

	// Known answer: HMAC-SHA256 over (8-byte big-endian length, bytes) of each name and value,
	// in name order.
	mac := hmac.New(sha256.New, key)
	for _, f := range []string{"admin-password", "hunter2", "agent-token", "tok"} {
		mac.Write([]byte{0, 0, 0, 0, 0, 0, 0, byte(len(f))})
		mac.Write([]byte(f))
	}
	g.Expect(rev).To(Equal(hex.EncodeToString(mac.Sum(nil))[:16]))

	unkeyed := sha256.New()
	for _, f := range []string{"admin-password", "hunter2", "agent-token", "tok"} {
		writeField(unkeyed, []byte(f))
	}
	g.Expect(rev).NotTo(Equal(hex.EncodeToString(unkeyed.Sum(nil))[:16]), "not a bare hash")

	for _, tc := range []struct {
		name     string
		key      []byte
		material map[string][]byte
		same     bool
	}{
		{"same key and material", bytes.Repeat([]byte{7}, RevisionKeyBytes), map[string][]byte{"agent-token": []byte("tok"), "admin-password": []byte("hunter2")}, true},
		{"another cluster's key", bytes.Repeat([]byte{8}, RevisionKeyBytes), material, false},
		{"a longer key", bytes.Repeat([]byte{7}, 2*RevisionKeyBytes), material, false},
		{"a changed value", key, map[string][]byte{"admin-password": []byte("hunter3"), "agent-token": []byte("tok")}, false},
		{"a value moved between fields", key, map[string][]byte{"admin-password": []byte("hunter2t"), "agent-token": []byte("ok")}, false},
		{"a renamed field", key, map[string][]byte{"admin-passwordX": []byte("hunter2"), "agent-token": []byte("tok")}, false},
		{"a field less", key, map[string][]byte{"admin-password": []byte("hunter2")}, false},
	} {
		got, err := SecretRevision(tc.key, tc.material)
		g.Expect(err).NotTo(HaveOccurred(), tc.name)
		if tc.same {
			g.Expect(got).To(Equal(rev), tc.name)
		} else {
			g.Expect(got).NotTo(Equal(rev), tc.name)
		}
	}

	for _, short := range [][]byte{nil, {}, bytes.Repeat([]byte{1}, RevisionKeyBytes-1)} {
		_, err := SecretRevision(short, material)
		g.Expect(err).To(MatchError(ContainSubstring("revision key")))
	}
}

func TestRevisionKeySecret(t *testing.T) {
	g := NewWithT(t)
	key := bytes.Repeat([]byte("k"), RevisionKeyBytes)
	s := BuildRevisionKeySecret(newCluster(), key)
	g.Expect(s.Name).To(Equal("c-revision-key"))
	g.Expect(s.Namespace).To(Equal("ns"))
	g.Expect(s.Labels).To(Equal(Labels("c", ComponentCommon, ComponentCommon)))
	g.Expect(s.Type).To(Equal(corev1.SecretTypeOpaque))
	g.Expect(s.Data).To(Equal(map[string][]byte{"hmac-key": key}))
	key[0] = 'x'
	g.Expect(s.Data["hmac-key"][0]).To(Equal(byte('k')), "the Secret holds a copy")

	got, err := RevisionKey(s)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got).To(Equal(s.Data["hmac-key"]))

	for _, data := range []map[string][]byte{nil, {"hmac-key": []byte("short-key")}, {"other": key}} {
		_, err := RevisionKey(&corev1.Secret{Data: data})
		g.Expect(err).To(HaveOccurred())
		g.Expect(err.Error()).NotTo(ContainSubstring("short-key"), "the error never carries the key")
	}
}
