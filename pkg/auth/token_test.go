package auth

import (
	"encoding/base64"
	"regexp"
	"testing"

	. "github.com/onsi/gomega"
)

var urlSafe = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func TestGenerateToken(t *testing.T) {
	t.Run("32 bytes from the reader, unpadded URL-safe base64", func(t *testing.T) {
		g := NewWithT(t)
		tok, err := GenerateToken(&countingReader{next: 0xf0})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(tok).To(HaveLen(43))
		g.Expect(tok).To(MatchRegexp(urlSafe.String()))
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		g.Expect(err).NotTo(HaveOccurred())
		want := make([]byte, 32)
		for i := range want {
			want[i] = byte(0xf0 + i)
		}
		g.Expect(raw).To(Equal(want))
		g.Expect(tok).To(ContainSubstring("-"), "the URL alphabet: '-' where standard base64 has '+'")
		g.Expect(tok).NotTo(ContainSubstring("+"))
	})
	t.Run("crypto/rand when the reader is nil", func(t *testing.T) {
		g := NewWithT(t)
		a, err := GenerateToken(nil)
		g.Expect(err).NotTo(HaveOccurred())
		b, err := GenerateToken(nil)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(a).To(HaveLen(43))
		g.Expect(a).NotTo(Equal(b))
	})
	for name, r := range map[string]interface{ Read([]byte) (int, error) }{
		"short reader":   &shortReader{n: 31},
		"failing reader": failingReader{},
	} {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			tok, err := GenerateToken(r)
			g.Expect(err).To(MatchError(ContainSubstring("while reading randomness for a token")))
			g.Expect(tok).To(BeEmpty())
		})
	}
}
