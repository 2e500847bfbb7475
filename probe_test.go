package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

func TestProbe(t *testing.T) {
	g := NewWithT(t)
	serve := func(status int) string {
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(status) }))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	g.Expect(probe(serve(http.StatusOK), time.Second)).To(Succeed())
	g.Expect(probe(serve(http.StatusUnauthorized), time.Second)).To(Succeed(), "the secure metrics endpoint answers 401 without a token")
	g.Expect(probe(serve(http.StatusServiceUnavailable), time.Second)).To(MatchError(ContainSubstring("503")))
	g.Expect(probe("https://127.0.0.1:1/metrics", time.Second)).To(MatchError(ContainSubstring("while asking")), "nothing listens")
}
