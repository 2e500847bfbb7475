// Package version is the operator's version, stamped at build time:
//
//	go build -ldflags "-X github.com/imply-operator/imply-operator/pkg/version.version=v0.1.0
//	  -X github.com/imply-operator/imply-operator/pkg/version.commit=$(git rev-parse HEAD)"
//
// Unstamped builds report "dev" and the VCS revision Go recorded, if any.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set with -ldflags -X; see the package comment.
var (
	version = "dev"
	commit  = ""
)

// Info is what a build knows about itself.
type Info struct {
	Version   string
	Commit    string
	GoVersion string
}

// Get returns the build's version, commit ("unknown" when neither stamped nor recorded by Go)
// and the Go it was built with.
func Get() Info {
	return Info{Version: version, Commit: commitOf(commit, debug.ReadBuildInfo), GoVersion: runtime.Version()}
}

// String is the one line `imply-operator --version` prints.
func (i Info) String() string {
	return fmt.Sprintf("imply-operator %s (commit %s, %s)", i.Version, i.Commit, i.GoVersion)
}

// commitOf is the stamped commit, else the vcs.revision Go embedded, else "unknown".
func commitOf(stamped string, read func() (*debug.BuildInfo, bool)) string {
	if stamped != "" {
		return stamped
	}
	if bi, ok := read(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && s.Value != "" {
				return s.Value
			}
		}
	}
	return "unknown"
}
