package main

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"testing"

	"k8s.io/client-go/rest"
)

// TestWithoutResponseCompression checks that a client of the operator's configuration does not
// offer gzip (Go's transport adds "Accept-Encoding: gzip" to every request unless told not to),
// and that the configuration it was given is left as it was.
func TestWithoutResponseCompression(t *testing.T) {
	accepted := make(chan string, 1)
	server := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		accepted <- r.Header.Get("Accept-Encoding")
		w.WriteHeader(http.StatusOK)
	}))
	defer server.Close()

	// Over TLS, as to an apiserver: client-go hands a config without TLS settings Go's default
	// transport, whatever it says about compression.
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: server.Certificate().Raw})
	given := &rest.Config{Host: server.URL, TLSClientConfig: rest.TLSClientConfig{CAData: ca}}
	httpClient, err := rest.HTTPClientFor(withoutResponseCompression(given))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := httpClient.Get(server.URL + "/api")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if got := <-accepted; got != "" {
		t.Errorf("Accept-Encoding = %q, want none", got)
	}
	if given.DisableCompression {
		t.Error("the configuration passed in was changed")
	}
}
