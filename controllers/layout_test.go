package controllers

import (
	"go/build"
	"strings"
	"testing"
)

// TestKindPackagesStayApart keeps the layout honest: a kind's package never imports another
// kind's package (they share only controllers/internal/...).
func TestKindPackagesStayApart(t *testing.T) {
	const module = "github.com/imply-operator/imply-operator/controllers/"
	kinds := []string{"implycluster", "authtoken", "druidrole", "securitypolicy"}
	for _, kind := range kinds {
		pkg, err := build.ImportDir(kind, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range pkg.Imports {
			for _, other := range kinds {
				if other != kind && imp == module+other {
					t.Errorf("controllers/%s imports controllers/%s", kind, other)
				}
			}
			if strings.HasPrefix(imp, module) && !strings.HasPrefix(imp, module+"internal/") && imp != module+kind {
				t.Errorf("controllers/%s imports %s, which is not shared machinery", kind, imp)
			}
		}
	}
}
