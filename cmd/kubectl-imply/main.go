// Command kubectl-imply is the `kubectl imply` plugin: put it on the PATH (or install it with krew)
// and run `kubectl imply --help`.
package main

import (
	"fmt"
	"os"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/imply-operator/imply-operator/pkg/plugin"
)

func main() {
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	cmd := plugin.NewCommand(plugin.NewOptions(streams))
	if err := cmd.Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(plugin.ExitCode(err))
	}
}
