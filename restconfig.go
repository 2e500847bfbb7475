package main

import "k8s.io/client-go/rest"

// withoutResponseCompression returns a copy of cfg whose clients do not ask the apiserver to
// gzip its responses. The operator's watches stream every change of the objects it caches, and
// an apiserver compresses each flush of a watch for a client that accepts gzip: at 1,000
// clusters being created that was about 3% of the apiserver's CPU, and inflating it a share of
// the operator's (docs/performance.md, step 23). Between pods of one cluster the bytes saved
// are not worth it.
func withoutResponseCompression(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.DisableCompression = true
	return cfg
}
