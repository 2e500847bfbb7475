package admission

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// manifest is one object read from a YAML file, with the `# key: value` lines of the comment block
// that opens the file.
type manifest struct {
	path   string
	header map[string]string
	object *unstructured.Unstructured
}

// listYAML returns the .yaml files of dir, sorted, leaving out kustomization.yaml.
func listYAML(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) != ".yaml" || e.Name() == "kustomization.yaml" {
			continue
		}
		files = append(files, filepath.Join(dir, e.Name()))
	}
	sort.Strings(files)
	if len(files) == 0 {
		return nil, fmt.Errorf("no .yaml files in %s", dir)
	}
	return files, nil
}

// readManifest reads a single-object YAML file. Numbers decode as int64 where whole, as the API
// server returns them, so objects compare equal to what the server sends back.
func readManifest(path string) (*manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	header, err := parseHeader(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if docs := bytes.Split(data, []byte("\n---")); len(docs) > 1 {
		for _, d := range docs[1:] {
			if len(bytes.TrimSpace(d)) > 0 {
				return nil, fmt.Errorf("%s: holds more than one YAML document; one object per file", path)
			}
		}
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(js); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if gv := obj.GroupVersionKind().GroupVersion(); gv != implyv1alpha1.GroupVersion {
		return nil, fmt.Errorf("%s: apiVersion is %q, want %q", path, gv, implyv1alpha1.GroupVersion)
	}
	if obj.GetName() == "" {
		return nil, fmt.Errorf("%s: metadata.name is empty", path)
	}
	if obj.GetNamespace() != "" {
		return nil, fmt.Errorf("%s: sets metadata.namespace; the test picks the namespace", path)
	}
	return &manifest{path: path, header: header, object: obj}, nil
}

// parseHeader reads `# key: value` lines from the comment block at the top of a file. Comment
// lines without a known key are prose and ignored; a key given twice is an error.
func parseHeader(data []byte) (map[string]string, error) {
	header := map[string]string{}
	scanner := bufio.NewScanner(bytes.NewReader(data))
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		if line == "" {
			continue
		}
		if !strings.HasPrefix(line, "#") {
			break
		}
		key, value, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, "#")), ":")
		if !ok {
			continue
		}
		key = strings.TrimSpace(key)
		switch key {
		case "field", "message":
		default:
			continue
		}
		if _, dup := header[key]; dup {
			return nil, fmt.Errorf("header declares %q twice", key)
		}
		header[key] = strings.TrimSpace(value)
	}
	return header, scanner.Err()
}

// subsetMismatch reports the first place where actual lacks or differs from something expected
// holds, or "" when expected is a subset of actual: every key of every expected map is in the
// actual map with a matching value, and lists match element by element. The API server adds
// defaults, so actual may have more keys; it must not drop (prune) or change any.
func subsetMismatch(path string, expected, actual interface{}) string {
	switch e := expected.(type) {
	case map[string]interface{}:
		a, ok := actual.(map[string]interface{})
		if !ok {
			return fmt.Sprintf("%s: want an object, got %#v", path, actual)
		}
		keys := make([]string, 0, len(e))
		for k := range e {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			av, found := a[k]
			if !found {
				return fmt.Sprintf("%s.%s: missing (pruned or dropped by the API server)", path, k)
			}
			if m := subsetMismatch(path+"."+k, e[k], av); m != "" {
				return m
			}
		}
		return ""
	case []interface{}:
		a, ok := actual.([]interface{})
		if !ok || len(a) != len(e) {
			return fmt.Sprintf("%s: want a list of %d, got %#v", path, len(e), actual)
		}
		for i := range e {
			if m := subsetMismatch(fmt.Sprintf("%s[%d]", path, i), e[i], a[i]); m != "" {
				return m
			}
		}
		return ""
	default:
		if !reflect.DeepEqual(expected, actual) {
			return fmt.Sprintf("%s: want %#v, got %#v", path, expected, actual)
		}
		return ""
	}
}
