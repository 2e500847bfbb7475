package implycluster

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// maxEventNote is the longest note the apiserver accepts in an events.k8s.io/v1 Event.
const maxEventNote = 1024

// issuedNote is the note of the one CertificateIssued event of a reconcile: every Secret issued
// (issued maps its name to why), those issued for the same reason named together, in name order.
//
// One event a reconcile, not one a Secret: the events recorder folds events that differ only in
// their note into a series of the first, so the other Secrets and their reasons were lost (and
// each cost the apiserver a patch). A note that would be longer than the apiserver accepts ends
// with how many Secrets it does not name.
func issuedNote(issued map[string]string) string {
	names := slices.Sorted(maps.Keys(issued))
	if len(names) == 1 {
		return fmt.Sprintf("Issued the certificate in Secret %s (%s)", names[0], issued[names[0]])
	}
	var reasons []string
	byReason := map[string][]string{}
	for _, name := range names {
		why := issued[name]
		if _, seen := byReason[why]; !seen {
			reasons = append(reasons, why)
		}
		byReason[why] = append(byReason[why], name)
	}
	const room = 64 // for the tail naming how many are left out
	var b strings.Builder
	b.WriteString("Issued the certificates in Secrets ")
	named := 0
	for _, why := range reasons {
		part := strings.Join(byReason[why], ", ") + " (" + why + ")"
		if named > 0 {
			part = "; " + part
		}
		if b.Len()+len(part)+room > maxEventNote {
			if named > 0 {
				b.WriteString("; and ")
			}
			fmt.Fprintf(&b, "%d more (see status.certificates)", len(names)-named)
			return b.String()
		}
		b.WriteString(part)
		named += len(byReason[why])
	}
	return b.String()
}
