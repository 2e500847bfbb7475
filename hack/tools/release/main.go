// Command release builds the operator's release artifacts without a container engine: a static
// binary per platform and one OCI image layout holding an image per platform under one index.
// Each image is built from scratch: the binary at /imply-operator, an /etc/passwd and /etc/group
// naming the non-root user 65532, and a config that runs the binary as 65532:65532.
//
//	go run . -root ../../.. -out ../../../bin/release -version 0.1.0 -commit $(git rev-parse HEAD)
//
// Push the layout with any OCI tool, for example
// `skopeo copy --all oci:bin/release/oci:0.1.0 docker://ghcr.io/imply-operator/imply-operator:0.1.0`.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

func main() {
	var o Options
	var platforms string
	flag.StringVar(&o.Root, "root", ".", "The operator's repository (where main.go is).")
	flag.StringVar(&o.Out, "out", "bin/release", "Directory of the artifacts: binaries and the OCI layout in oci/.")
	flag.StringVar(&o.Version, "version", "", "Version stamped into the binaries and the image (required).")
	flag.StringVar(&o.Commit, "commit", "unknown", "Commit stamped into the binaries and the image.")
	flag.StringVar(&o.Source, "source", "https://github.com/imply-operator/imply-operator", "Source repository, for the image's labels.")
	flag.StringVar(&platforms, "platforms", "linux/amd64,linux/arm64", "Comma-separated os/arch platforms.")
	flag.Parse()
	o.Platforms = strings.Split(platforms, ",")
	if err := Build(o); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}
