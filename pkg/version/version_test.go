package version

import (
	"runtime"
	"runtime/debug"
	"testing"

	. "github.com/onsi/gomega"
)

func TestCommitOf(t *testing.T) {
	g := NewWithT(t)
	recorded := func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}}}, true
	}
	none := func() (*debug.BuildInfo, bool) { return nil, false }
	g.Expect(commitOf("f00d", recorded)).To(Equal("f00d"), "a stamped commit wins")
	g.Expect(commitOf("", recorded)).To(Equal("abc123"))
	g.Expect(commitOf("", none)).To(Equal("unknown"))
}

func TestGet(t *testing.T) {
	g := NewWithT(t)
	info := Get()
	g.Expect(info.Version).To(Equal("dev"), "unstamped")
	g.Expect(info.GoVersion).To(Equal(runtime.Version()))
	g.Expect(info.String()).To(HavePrefix("imply-operator dev (commit "))
}
