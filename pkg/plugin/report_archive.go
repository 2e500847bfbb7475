package plugin

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"regexp"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ArchiveFile is one file of a report.
type ArchiveFile struct {
	// Name is the path inside the archive's top directory.
	Name string
	Data []byte
}

// WriteArchive writes files as a gzip-compressed tar under the directory top, every file 0644 and
// stamped modTime.
func WriteArchive(w io.Writer, top string, files []ArchiveFile, modTime time.Time) error {
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: top + "/", Mode: 0o755, ModTime: modTime}); err != nil {
		return fmt.Errorf("while writing the archive: %w", err)
	}
	for _, f := range files {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: top + "/" + f.Name, Mode: 0o644, Size: int64(len(f.Data)), ModTime: modTime}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("while writing %s to the archive: %w", f.Name, err)
		}
		if _, err := tw.Write(f.Data); err != nil {
			return fmt.Errorf("while writing %s to the archive: %w", f.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("while closing the archive: %w", err)
	}
	return gz.Close()
}

// lastAppliedAnnotation is where `kubectl apply` keeps the whole object it applied, a Secret's data
// included.
const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// SecretMetadataOnly is the metadata of a Secret that a report may hold: name, labels,
// annotations, owners, timestamps; never data or stringData, and without kubectl's
// last-applied-configuration annotation and managed fields, which can carry them.
func SecretMetadataOnly(in metav1.ObjectMeta) metav1.ObjectMeta {
	out := *in.DeepCopy()
	out.ManagedFields = nil
	if _, ok := out.Annotations[lastAppliedAnnotation]; ok {
		out.Annotations[lastAppliedAnnotation] = "(removed by kubectl imply report: it can hold the Secret's data)"
	}
	return out
}

// FilterLogLines keeps the lines of an operator log that are about cluster in namespace: lines
// that name the namespace and the cluster, or an object named after it (<cluster>-...).
func FilterLogLines(r io.Reader, namespace, cluster string) ([]string, error) {
	nameRE := regexp.MustCompile(`(^|[^A-Za-z0-9_.-])` + regexp.QuoteMeta(cluster) + `($|[^A-Za-z0-9_.]|-)`)
	nsRE := regexp.MustCompile(`(^|[^A-Za-z0-9_.-])` + regexp.QuoteMeta(namespace) + `($|[^A-Za-z0-9_.-])`)
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if nsRE.MatchString(line) && nameRE.MatchString(line) {
			out = append(out, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("while reading the operator log: %w", err)
	}
	return out, nil
}
