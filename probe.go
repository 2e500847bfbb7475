package main

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"time"
)

// probe asks url once and reports whether the operator answered: any HTTP status below 500 is an
// answer (the secure metrics endpoint answers 401 to a caller without a token). The server
// certificate is not verified: the metrics endpoint may serve a self-signed one, and this only
// checks that the operator is up. The chart's `helm test` runs it.
func probe(url string, timeout time.Duration) error {
	c := &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{
			InsecureSkipVerify: true, //nolint:gosec // a liveness check of the operator's own endpoint
			MinVersion:         tls.VersionTLS12,
		}},
	}
	resp, err := c.Get(url)
	if err != nil {
		return fmt.Errorf("while asking %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= http.StatusInternalServerError {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	fmt.Printf("%s answered %s\n", url, resp.Status)
	return nil
}
