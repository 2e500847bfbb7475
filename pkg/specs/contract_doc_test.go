package specs

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/util/sets"
)

// contractDocEnv returns the variables docs/imply-contract.md lists in its environment table
// (the first, back-quoted cell of each row between <!-- env:begin --> and <!-- env:end -->).
func contractDocEnv(t *testing.T) sets.Set[string] {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "imply-contract.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	begin, end := strings.Index(text, "<!-- env:begin -->"), strings.Index(text, "<!-- env:end -->")
	if begin < 0 || end < begin {
		t.Fatal("docs/imply-contract.md has no <!-- env:begin --> ... <!-- env:end --> table")
	}
	row := regexp.MustCompile("(?m)^\\| `([A-Za-z_][A-Za-z0-9_]*)` \\|")
	names := sets.New[string]()
	for _, m := range row.FindAllStringSubmatch(text[begin:end], -1) {
		names.Insert(m[1])
	}
	return names
}

// TestContractDocListsEveryEnvVar keeps docs/imply-contract.md and the pods in step: every
// environment variable of the manager's and the agents' pods, over clusters that between them
// switch every feature on, is listed in the contract, and every variable the contract lists is
// set in some pod.
func TestContractDocListsEveryEnvVar(t *testing.T) {
	g := NewWithT(t)
	documented := contractDocEnv(t)
	g.Expect(documented.Len()).To(BeNumerically(">", 20))

	built := sets.New[string]()
	for name, c := range goldenPodCases() {
		for pod, spec := range contractPods(c) {
			for _, ctr := range spec.Containers {
				for _, e := range ctr.Env {
					built.Insert(e.Name)
					g.Expect(documented.Has(e.Name)).To(BeTrue(), "%s of the %s pod of %s is not in docs/imply-contract.md", e.Name, pod, name)
				}
			}
		}
	}
	missing := documented.Difference(built).UnsortedList()
	slices.Sort(missing)
	g.Expect(missing).To(BeEmpty(), "docs/imply-contract.md lists variables no pod sets")
}
