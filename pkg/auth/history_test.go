package auth

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

func TestHashPassword(t *testing.T) {
	g := NewWithT(t)
	h, err := HashPassword(&countingReader{}, "s3cret-Passw0rd")
	g.Expect(err).NotTo(HaveOccurred())

	fields := strings.Split(h, "$")
	g.Expect(fields).To(HaveLen(4))
	g.Expect(fields[0]).To(Equal("pbkdf2-sha256"))
	g.Expect(fields[1]).To(Equal(strconv.Itoa(HashIterations)))
	salt, err := base64.RawStdEncoding.DecodeString(fields[2])
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(salt).To(Equal([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}), "16 bytes of salt from the reader")
	want, err := pbkdf2.Key(sha256.New, "s3cret-Passw0rd", salt, HashIterations, 32)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(fields[3]).To(Equal(base64.RawStdEncoding.EncodeToString(want)), "PBKDF2-HMAC-SHA-256 of the password")
	g.Expect(h).NotTo(ContainSubstring("s3cret"))

	g.Expect(MatchesHistory("s3cret-Passw0rd", []string{h})).To(BeTrue())
	g.Expect(MatchesHistory("s3cret-Passw0rd ", []string{h})).To(BeFalse())

	other, err := HashPassword(nil, "s3cret-Passw0rd")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(other).NotTo(Equal(h), "a random salt makes equal passwords hash differently")
	g.Expect(MatchesHistory("s3cret-Passw0rd", []string{other})).To(BeTrue())

	_, err = HashPassword(&shortReader{n: 15}, "x")
	g.Expect(err).To(MatchError(ContainSubstring("while reading randomness for a password salt")))
}

func TestMatchesHistory(t *testing.T) {
	g := NewWithT(t)
	const password = "correct horse battery staple"
	good, err := hashPassword(&countingReader{}, password, minHashIterations)
	g.Expect(err).NotTo(HaveOccurred())
	other, err := hashPassword(&countingReader{next: 100}, "another password", minHashIterations)
	g.Expect(err).NotTo(HaveOccurred())
	f := strings.Split(good, "$")
	with := func(i int, v string) string {
		c := append([]string(nil), f...)
		c[i] = v
		return strings.Join(c, "$")
	}

	for _, tc := range []struct {
		name    string
		history []string
		want    bool
	}{
		{"match", []string{good}, true},
		{"match after others", []string{other, "garbage", good}, true},
		{"no match", []string{other}, false},
		{"empty history", nil, false},
		{"another scheme", []string{with(0, "bcrypt")}, false},
		{"too few fields", []string{strings.Join(f[:3], "$")}, false},
		{"too many fields", []string{good + "$x"}, false},
		{"iterations not a number", []string{with(1, "many")}, false},
		{"iterations below the floor", []string{with(1, "999")}, false},
		{"iterations above the ceiling", []string{with(1, "2000001")}, false},
		{"salt not base64", []string{with(2, "!!!")}, false},
		{"salt too short", []string{with(2, base64.RawStdEncoding.EncodeToString([]byte("short")))}, false},
		{"hash not base64", []string{with(3, "!!!")}, false},
		{"hash too short", []string{with(3, f[3][:20])}, false},
		{"hash altered", []string{with(3, "A"+f[3][1:])}, false},
		{"salt altered", []string{with(2, "B"+f[2][1:])}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(MatchesHistory(password, tc.history)).To(Equal(tc.want))
		})
	}
}

func TestPushHistory(t *testing.T) {
	for _, tc := range []struct {
		name    string
		history []string
		hash    string
		keep    int
		want    []string
	}{
		{"first entry", nil, "a", 3, []string{"a"}},
		{"newest first", []string{"b", "c"}, "a", 3, []string{"a", "b", "c"}},
		{"trimmed to keep, oldest dropped", []string{"b", "c", "d"}, "a", 3, []string{"a", "b", "c"}},
		{"keep 1", []string{"b"}, "a", 1, []string{"a"}},
		{"keep 0 keeps nothing", []string{"b"}, "a", 0, nil},
		{"negative keep keeps nothing", []string{"b"}, "a", -1, nil},
		{"a history longer than keep shrinks", []string{"b", "c", "d", "e"}, "a", 2, []string{"a", "b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			before := append([]string(nil), tc.history...)
			g.Expect(PushHistory(tc.history, tc.hash, tc.keep)).To(Equal(tc.want))
			g.Expect(tc.history).To(Equal(before), "the input is not modified")
		})
	}
}
