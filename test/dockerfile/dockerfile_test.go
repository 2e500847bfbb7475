// Package dockerfile checks the operator's Dockerfile without a Docker engine: its shape (a Go
// build stage and a distroless, non-root final stage), that it copies every package main.go
// needs, and, by replaying its build stage in a directory holding only what it copies, that its
// exact build command produces a static, stripped, path-free binary.
package dockerfile

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/imply-operator/imply-operator/test/testenv"
)

// instruction is one Dockerfile instruction with its continuation lines joined.
type instruction struct {
	Cmd  string // upper case: FROM, RUN, COPY, ...
	Args string
}

// stage is the instructions from one FROM to the next.
type stage struct {
	Image, Name string
	// Platform is FROM's --platform, empty without one.
	Platform string
	Body     []instruction
}

func (s stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range s.Body {
		if in.Cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// parseDockerfile reads the instructions (comments dropped, continuations joined), the global
// ARGs before the first FROM, and the stages.
func parseDockerfile(data []byte) (globalArgs []instruction, stages []stage, err error) {
	var logical []string
	var cur strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || (line == "" && cur.Len() == 0) {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cur.WriteString(strings.TrimSuffix(line, "\\") + " ")
			continue
		}
		cur.WriteString(line)
		logical = append(logical, cur.String())
		cur.Reset()
	}
	if cur.Len() > 0 {
		return nil, nil, errors.New("the Dockerfile ends in a line continuation")
	}
	for _, l := range logical {
		cmd, args, _ := strings.Cut(l, " ")
		in := instruction{Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args)}
		if in.Cmd == "FROM" {
			fields := strings.Fields(in.Args)
			var st stage
			for len(fields) > 0 && strings.HasPrefix(fields[0], "--") {
				if p, ok := strings.CutPrefix(fields[0], "--platform="); ok {
					st.Platform = p
				}
				fields = fields[1:]
			}
			if len(fields) == 0 {
				return nil, nil, fmt.Errorf("FROM without an image: %q", in.Args)
			}
			st.Image = fields[0]
			if len(fields) == 3 && strings.EqualFold(fields[1], "AS") {
				st.Name = fields[2]
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			if in.Cmd != "ARG" {
				return nil, nil, fmt.Errorf("%s before the first FROM", in.Cmd)
			}
			globalArgs = append(globalArgs, in)
			continue
		}
		stages[len(stages)-1].Body = append(stages[len(stages)-1].Body, in)
	}
	return globalArgs, stages, nil
}

// shellWords splits a simple shell command line: words, double and single quotes, no expansion
// beyond what the caller did.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case r == '&' || r == '|' || r == ';':
			return nil, fmt.Errorf("the build RUN must be one command, found %q in %q", r, s)
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// copySpec is a COPY from the build context: sources relative to the context, destination
// relative to the stage's WORKDIR.
type copySpec struct {
	Sources []string
	Dest    string
}

func copiesFromContext(st stage) ([]copySpec, error) {
	var out []copySpec
	for _, in := range st.all("COPY") {
		if strings.HasPrefix(in.Args, "--from") {
			continue
		}
		fields := strings.Fields(in.Args)
		if len(fields) < 2 || strings.HasPrefix(fields[0], "--") {
			return nil, fmt.Errorf("unsupported COPY %q", in.Args)
		}
		out = append(out, copySpec{Sources: fields[:len(fields)-1], Dest: fields[len(fields)-1]})
	}
	return out, nil
}

func TestDockerfile(t *testing.T) {
	g := NewWithT(t)
	root := testenv.RepoRoot()
	data, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	g.Expect(err).NotTo(HaveOccurred())
	globalArgs, stages, err := parseDockerfile(data)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(len(stages)).To(BeNumerically(">=", 2), "a build stage and a run stage")
	build, final := stages[0], stages[len(stages)-1]

	t.Run("builds with the Go of go.mod", func(t *testing.T) {
		g := NewWithT(t)
		g.Expect(build.Name).NotTo(BeEmpty(), "the build stage is named, for COPY --from")
		modData, err := os.ReadFile(filepath.Join(root, "go.mod"))
		g.Expect(err).NotTo(HaveOccurred())
		goLine := regexp.MustCompile(`(?m)^go (\d+)\.(\d+)`).FindStringSubmatch(string(modData))
		g.Expect(goLine).To(HaveLen(3), "go.mod has no go directive")
		g.Expect(build.Image).To(MatchRegexp(`^golang:%s\.%s(\.\d+)?(-[a-z0-9.]+)?(@sha256:[a-f0-9]{64})?$`,
			goLine[1], goLine[2]), "go.mod says %s", goLine[0])
	})

	t.Run("builds on the build platform and cross-compiles for the target", func(t *testing.T) {
		g := NewWithT(t)
		g.Expect(build.Platform).To(Equal("$BUILDPLATFORM"), "the compiler runs natively, never emulated")
		var buildRun string
		for _, r := range build.all("RUN") {
			if strings.Contains(r.Args, "go build") {
				buildRun = r.Args
			}
		}
		g.Expect(buildRun).To(ContainSubstring("GOOS=${TARGETOS}"))
		g.Expect(buildRun).To(ContainSubstring("GOARCH=${TARGETARCH}"))
		g.Expect(buildRun).To(ContainSubstring("pkg/version.version=${VERSION}"), "the version is stamped")
		g.Expect(buildRun).To(ContainSubstring("pkg/version.commit=${COMMIT}"))
	})

	t.Run("runs as non-root on distroless static with only the binary", func(t *testing.T) {
		g := NewWithT(t)
		g.Expect(final.Image).To(MatchRegexp(`^gcr\.io/distroless/static(-debian\d+)?:nonroot(@sha256:[a-f0-9]{64})?$`))
		users := final.all("USER")
		g.Expect(users).To(HaveLen(1))
		g.Expect(users[0].Args).To(Equal("65532:65532"))
		g.Expect(final.all("RUN")).To(BeEmpty(), "distroless has no shell")
		copies := final.all("COPY")
		g.Expect(copies).To(HaveLen(1))
		g.Expect(strings.Fields(copies[0].Args)).To(Equal([]string{"--from=" + build.Name, "/out/imply-operator", "/imply-operator"}))
		entrypoints := final.all("ENTRYPOINT")
		g.Expect(entrypoints).To(HaveLen(1))
		g.Expect(entrypoints[0].Args).To(Equal(`["/imply-operator"]`), "exec form, so the operator is PID 1 and gets SIGTERM")
	})

	copies, err := copiesFromContext(build)
	g.Expect(err).NotTo(HaveOccurred())

	t.Run("copies go.mod, go.sum and every package main.go imports", func(t *testing.T) {
		g := NewWithT(t)
		var sources []string
		for _, c := range copies {
			for _, s := range c.Sources {
				sources = append(sources, strings.TrimSuffix(s, "/"))
			}
		}
		g.Expect(sources).To(ContainElements("go.mod", "go.sum", "main.go"))
		for _, dir := range mainModulePackageDirs(t, root) {
			if dir == "." {
				continue // main.go, checked above
			}
			covered := false
			for _, s := range sources {
				if dir == s || strings.HasPrefix(dir, s+"/") {
					covered = true
				}
			}
			g.Expect(covered).To(BeTrue(), "main.go needs package %s, which the Dockerfile does not copy", dir)
		}
		for _, s := range sources {
			g.Expect(dockerignored(t, root, s)).To(BeEmpty(), "%s is copied but .dockerignore excludes it", s)
		}
	})

	t.Run("builds a static, stripped, path-free binary with its exact command", func(t *testing.T) {
		g := NewWithT(t)
		args := map[string]string{}
		for _, a := range append(globalArgs, build.all("ARG")...) {
			name, value, _ := strings.Cut(a.Args, "=")
			args[name] = value
		}
		// BuildKit sets the target platform; this machine's is what `docker build` here would use.
		args["TARGETOS"], args["TARGETARCH"] = "linux", runtime.GOARCH

		var buildRun string
		for _, r := range build.all("RUN") {
			if strings.Contains(r.Args, "go build") {
				g.Expect(buildRun).To(BeEmpty(), "one go build")
				buildRun = r.Args
			}
		}
		g.Expect(buildRun).NotTo(BeEmpty())
		words, err := shellWords(os.Expand(buildRun, func(k string) string { return args[k] }))
		g.Expect(err).NotTo(HaveOccurred())

		var env []string
		for len(words) > 0 && regexp.MustCompile(`^[A-Z_][A-Z0-9_]*=`).MatchString(words[0]) {
			env, words = append(env, words[0]), words[1:]
		}
		g.Expect(env).To(ContainElement("CGO_ENABLED=0"))
		g.Expect(words[:2]).To(Equal([]string{"go", "build"}))
		g.Expect(words).To(ContainElement("-trimpath"))
		ldflags := ""
		for i, w := range words {
			if w == "-ldflags" && i+1 < len(words) {
				ldflags = words[i+1]
			}
		}
		g.Expect(strings.Fields(ldflags)).To(ContainElements("-s", "-w"))
		out := -1
		for i, w := range words {
			if w == "-o" {
				out = i + 1
			}
		}
		g.Expect(out).To(BeNumerically(">", 0))
		g.Expect(words[out]).To(Equal("/out/imply-operator"))

		By := func(s string) { t.Log(s) }
		By("replaying the build stage in a context holding only what the Dockerfile copies")
		context := t.TempDir()
		for _, c := range copies {
			g.Expect(filepath.IsAbs(c.Dest)).To(BeFalse(), "COPY destinations are relative to WORKDIR")
			for _, s := range c.Sources {
				copyPath(t, filepath.Join(root, s), filepath.Join(context, c.Dest, destName(t, filepath.Join(root, s), c)))
			}
		}
		binary := filepath.Join(t.TempDir(), "imply-operator")
		words[out] = binary
		cmd := exec.Command(words[0], words[1:]...)
		cmd.Dir = context
		cmd.Env = append(os.Environ(), append(env, "GOWORK=off", "GOFLAGS=-mod=readonly", "GOTOOLCHAIN=local")...)
		output, err := cmd.CombinedOutput()
		g.Expect(err).NotTo(HaveOccurred(), "%s\n%s", strings.Join(cmd.Args, " "), output)

		By("checking the binary is static: no interpreter, no shared libraries")
		f, err := elf.Open(binary)
		g.Expect(err).NotTo(HaveOccurred())
		defer f.Close()
		for _, p := range f.Progs {
			g.Expect(p.Type).NotTo(Equal(elf.PT_INTERP), "the binary asks for a dynamic loader")
			g.Expect(p.Type).NotTo(Equal(elf.PT_DYNAMIC), "the binary is dynamically linked")
		}
		libs, err := f.ImportedLibraries()
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(libs).To(BeEmpty())
		g.Expect(f.Machine).To(Equal(map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[runtime.GOARCH]))

		By("checking it is stripped (-s -w) and holds no build path (-trimpath)")
		_, err = f.Symbols()
		g.Expect(err).To(MatchError(elf.ErrNoSymbols))
		g.Expect(f.Section(".debug_info")).To(BeNil())
		content, err := os.ReadFile(binary)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(bytes.Contains(content, []byte(context))).To(BeFalse(), "the binary embeds the build directory")

		By("running it: it reports the version it was stamped with")
		versionOut, err := exec.Command(binary, "--version").CombinedOutput()
		g.Expect(err).NotTo(HaveOccurred(), string(versionOut))
		g.Expect(string(versionOut)).To(HavePrefix("imply-operator "+args["VERSION"]+" (commit "+args["COMMIT"]+", "), "ARG defaults")

		By("running it: it starts and knows the flags the chart passes")
		help, _ := exec.Command(binary, "--help").CombinedOutput()
		for _, flag := range []string{"leader-elect", "leader-election-namespace", "watch-namespace",
			"metrics-bind-address", "health-probe-bind-address", "zap-log-level", "zap-encoder", "zap-devel"} {
			g.Expect(string(help)).To(MatchRegexp(`(?m)^\s+-%s(\s|$)`, regexp.QuoteMeta(flag)), "--help:\n%s", help)
		}
	})
}

// mainModulePackageDirs lists, relative to root, the directories of this module's packages that
// the linux build of main.go needs.
func mainModulePackageDirs(t *testing.T, root string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-f", "{{if .Module}}{{if .Module.Main}}{{.Dir}}{{end}}{{end}}", ".")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "CGO_ENABLED=0", "GOWORK=off")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var dirs []string
	for _, d := range strings.Fields(string(out)) {
		rel, err := filepath.Rel(root, d)
		if err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, filepath.ToSlash(rel))
	}
	if len(dirs) < 2 {
		t.Fatalf("go list found only %v", dirs)
	}
	return dirs
}

// dockerignored returns the .dockerignore patterns that exclude path or one of its parents.
func dockerignored(t *testing.T, root, path string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var hits []string
	for _, line := range strings.Split(string(data), "\n") {
		pattern := strings.TrimSuffix(strings.TrimSpace(line), "/")
		if pattern == "" || strings.HasPrefix(pattern, "#") {
			continue
		}
		if strings.HasPrefix(pattern, "!") {
			t.Fatalf(".dockerignore exception %q: this test only understands exclusions", pattern)
		}
		parts := strings.Split(path, "/")
		for i := range parts {
			if ok, _ := filepath.Match(pattern, strings.Join(parts[:i+1], "/")); ok {
				hits = append(hits, pattern)
			}
		}
	}
	return hits
}

// destName is where, under its destination, COPY puts source src: a directory's content goes
// into the destination itself, a file into a destination ending in "/" keeps its base name.
func destName(t *testing.T, src string, c copySpec) string {
	t.Helper()
	info, err := os.Stat(src)
	if err != nil {
		t.Fatalf("COPY source: %v", err)
	}
	if !info.IsDir() && strings.HasSuffix(c.Dest, "/") {
		return filepath.Base(src)
	}
	return ""
}

// copyPath copies a file or a directory tree.
func copyPath(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		return os.WriteFile(target, data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatalf("copying %s: %v", src, err)
	}
}
