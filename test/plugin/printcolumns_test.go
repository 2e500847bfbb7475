package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// table asks the apiserver for the Table kubectl get prints (server-side printing of the CRD's
// printer columns) and returns the first row's cells by column name.
func table(t *testing.T, resource, ns string) map[string]any {
	t.Helper()
	hc, err := rest.HTTPClientFor(restConfig)
	if err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("%s/apis/%s/namespaces/%s/%s", strings.TrimSuffix(restConfig.Host, "/"), implyv1alpha1.GroupVersion, ns, resource)
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v %s", url, resp.StatusCode, err, raw)
	}
	var tbl metav1.Table
	if err := json.Unmarshal(raw, &tbl); err != nil {
		t.Fatal(err)
	}
	if len(tbl.Rows) == 0 {
		t.Fatalf("no rows for %s", resource)
	}
	cells := map[string]any{}
	for i, col := range tbl.ColumnDefinitions {
		cells[col.Name] = tbl.Rows[0].Cells[i]
	}
	return cells
}

// kubectl get ic / iat show the next expiry and rotation as RFC 3339 strings; a date column would
// render every future time as <invalid>.
func TestPrinterColumnsShowFutureTimes(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t, "plugin-columns")
	c := createCluster(t, cluster("shop", ns))
	tok := druidUser(t, ns, "pivot-sales", "shop", "sales", "columns-password")

	cells := table(t, "implyclusters", ns)
	g.Expect(cells["Next-Expiry"]).To(Equal(c.Status.NextCertificateExpiry.UTC().Format(time.RFC3339)))
	g.Expect(cells["Age"]).NotTo(Equal("<invalid>"))

	cells = table(t, "authtokens", ns)
	g.Expect(cells["Next-Rotation"]).To(Equal(tok.Status.NextRotation.UTC().Format(time.RFC3339)))
	g.Expect(cells["Next-Rotation"]).NotTo(Equal("<invalid>"))
}
