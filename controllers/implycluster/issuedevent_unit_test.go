package implycluster

import (
	"fmt"
	"strings"
	"testing"
)

// TestIssuedNoteNamesEverySecret: one note names every Secret issued, those of one reason
// together, so none is lost to the recorder's series.
func TestIssuedNoteNamesEverySecret(t *testing.T) {
	missing := "Missing: no certificate has been issued yet"
	for _, tc := range []struct {
		issued map[string]string
		want   string
	}{{
		issued: map[string]string{"c-data-tls": missing},
		want:   "Issued the certificate in Secret c-data-tls (" + missing + ")",
	}, {
		issued: map[string]string{"c-query-tls": missing, "c-data-tls": missing, "c-manager-tls": "Expiring: soon", "c-master-tls": missing},
		want:   "Issued the certificates in Secrets c-data-tls, c-master-tls, c-query-tls (" + missing + "); c-manager-tls (Expiring: soon)",
	}} {
		if got := issuedNote(tc.issued); got != tc.want {
			t.Errorf("issuedNote(%v) =\n%q, want\n%q", tc.issued, got, tc.want)
		}
	}
}

// TestIssuedNoteFitsTheAPIServer: a note that would pass the apiserver's 1 KiB limit ends with
// how many Secrets it leaves out.
func TestIssuedNoteFitsTheAPIServer(t *testing.T) {
	issued := map[string]string{}
	for i := range 40 {
		issued[fmt.Sprintf("cluster-with-a-long-name-group-%02d-tls", i)] = fmt.Sprintf("Expiring: renewal %d is due", i)
	}
	note := issuedNote(issued)
	if len(note) > maxEventNote {
		t.Fatalf("the note has %d bytes, more than %d", len(note), maxEventNote)
	}
	named := strings.Count(note, "-tls")
	if want := fmt.Sprintf("; and %d more (see status.certificates)", 40-named); named == 0 || !strings.HasSuffix(note, want) {
		t.Errorf("the note names %d Secrets and ends %q, want it to end %q", named, note[max(0, len(note)-60):], want)
	}
}
