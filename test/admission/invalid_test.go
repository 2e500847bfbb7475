package admission

import (
	"errors"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// invalidDir holds one invalid manifest per file. Each file opens with comment lines naming the
// field path the API server must report and a fragment of its message:
//
//	# field: spec.nodeGroups[1].name
//	# message: must be a DNS label
const invalidDir = "testdata/invalid"

// minInvalidCases is the least number of invalid manifests the suite expects.
const minInvalidCases = 35

// expectRejected creates the manifest and asserts the API server refuses it as Invalid, naming the
// declared field with a message containing the declared fragment.
func expectRejected(path string) {
	m, err := readManifest(path)
	Expect(err).NotTo(HaveOccurred())
	field, message := m.header["field"], m.header["message"]
	Expect(field).NotTo(BeEmpty(), "%s must declare `# field: <path>`", path)
	Expect(message).NotTo(BeEmpty(), "%s must declare `# message: <fragment>`", path)

	obj := m.object.DeepCopy()
	obj.SetNamespace(newNamespace())
	err = k8sClient.Create(ctx, obj)
	Expect(err).To(HaveOccurred(), "the API server admitted %s; it must reject it at %s: %s", path, field, message)
	Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want an Invalid (422) error, got: %v", err)
	Expect(err.Error()).To(ContainSubstring(field))
	Expect(err.Error()).To(ContainSubstring(message))
	causes := expectCause(err, field, message)
	expectSingleReason(causes, field)
}

// expectSingleReason asserts a manifest failed for its one declared reason: besides the causes at
// the declared field, only two kinds are tolerated. The API server's note that CEL rules were
// skipped because the schema already failed; and a rule on an enclosing object that could not
// evaluate the same bad value (an unparsable duration is also unreadable to a rule comparing it
// with a sibling).
func expectSingleReason(causes []metav1.StatusCause, field string) {
	GinkgoHelper()
	for _, c := range causes {
		switch {
		case c.Field == field:
		case strings.Contains(c.Message, "some validation rules were not checked because the object was invalid"):
		case isAncestorPath(c.Field, field) && strings.Contains(c.Message, " evaluating rule: "):
		default:
			Fail("the manifest fails for more than its declared reason at " + field + "; unexpected cause:\n  " +
				c.Field + ": " + c.Message + "\nall causes:" + describeCauses(causes))
		}
	}
}

// isAncestorPath reports whether field path a encloses field path b.
func isAncestorPath(a, b string) bool {
	return strings.HasPrefix(b, a+".") || strings.HasPrefix(b, a+"[")
}

// expectCause asserts err carries a cause reported at exactly field whose message contains
// message: a substring match on the whole text would let spec.nodeGroups pass for
// spec.nodeGroups[0].name.
func expectCause(err error, field, message string) []metav1.StatusCause {
	GinkgoHelper()
	var status apierrors.APIStatus
	Expect(errors.As(err, &status)).To(BeTrue(), "not an API status error: %v", err)
	details := status.Status().Details
	Expect(details).NotTo(BeNil(), "no details in %v", err)
	GinkgoWriter.Printf("rejected with:%s\n", describeCauses(details.Causes))
	Expect(details.Causes).To(ContainElement(SatisfyAll(
		HaveField("Field", Equal(field)),
		HaveField("Message", ContainSubstring(message)),
	)), "no cause at %q containing %q in: %s", field, message, describeCauses(details.Causes))
	return details.Causes
}

func describeCauses(causes []metav1.StatusCause) string {
	var b strings.Builder
	for _, c := range causes {
		b.WriteString("\n  ")
		b.WriteString(c.Field)
		b.WriteString(": ")
		b.WriteString(c.Message)
	}
	return b.String()
}

var _ = Describe("The invalid manifests in testdata/invalid", func() {
	files, listErr := listYAML(invalidDir)

	It("number at least 35, each declaring the field and message it must be rejected with", func() {
		Expect(listErr).NotTo(HaveOccurred())
		Expect(len(files)).To(BeNumerically(">=", minInvalidCases))
		for _, path := range files {
			m, err := readManifest(path)
			Expect(err).NotTo(HaveOccurred())
			Expect(m.header).To(HaveKeyWithValue("field", Not(BeEmpty())), path)
			Expect(m.header).To(HaveKeyWithValue("message", Not(BeEmpty())), path)
		}
	})

	entries := make([]TableEntry, 0, len(files))
	for _, path := range files {
		entries = append(entries, Entry(strings.TrimSuffix(filepath.Base(path), ".yaml"), path))
	}
	DescribeTable("are rejected", expectRejected, entries)
})
