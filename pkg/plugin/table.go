package plugin

import (
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// tone is the meaning of a cell, shown as a colour on a terminal.
type tone int

const (
	toneNone tone = iota
	toneGood
	toneWarn
	toneBad
	toneDim
)

// ansi are the escape sequences of each tone.
var ansi = map[tone]string{toneGood: "\x1b[32m", toneWarn: "\x1b[33m", toneBad: "\x1b[31m", toneDim: "\x1b[2m"}

const ansiReset = "\x1b[0m"

// cell is one table cell: its text and tone.
type cell struct {
	Text string
	Tone tone
}

// plain is a cell without a tone.
func plain(s string) cell { return cell{Text: s} }

// painter colours text when enabled.
type painter struct{ color bool }

// paint wraps s in t's colour when colour is on.
func (p painter) paint(s string, t tone) string {
	if !p.color || t == toneNone || s == "" {
		return s
	}
	return ansi[t] + s + ansiReset
}

// tableIndent starts every line of a table, so tables sit under their section's heading.
const tableIndent = "  "

// writeTable writes rows under header, indented by tableIndent, columns padded to their widest
// text; colour codes do not count towards the width, so columns line up on a terminal too.
func (p painter) writeTable(w io.Writer, header []string, rows [][]cell) {
	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = utf8.RuneCountInString(h)
	}
	for _, r := range rows {
		for i, c := range r {
			if i < len(widths) && utf8.RuneCountInString(c.Text) > widths[i] {
				widths[i] = utf8.RuneCountInString(c.Text)
			}
		}
	}
	line := func(cells []cell) {
		var b strings.Builder
		b.WriteString(tableIndent)
		for i, c := range cells {
			if i == len(cells)-1 {
				b.WriteString(p.paint(c.Text, c.Tone))
				break
			}
			b.WriteString(p.paint(c.Text, c.Tone))
			b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c.Text)+3))
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	hc := make([]cell, len(header))
	for i, h := range header {
		hc[i] = cell{Text: h, Tone: toneDim}
	}
	line(hc)
	for _, r := range rows {
		line(r)
	}
}

// colorEnabled decides --color: "always", "never", or "auto" (a terminal, and NO_COLOR unset).
func colorEnabled(mode string, out io.Writer) (bool, error) {
	switch mode {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto", "":
		if os.Getenv("NO_COLOR") != "" {
			return false, nil
		}
		f, ok := out.(*os.File)
		return ok && term.IsTerminal(int(f.Fd())), nil
	default:
		return false, usagef("--color must be auto, always or never, got %q", mode)
	}
}

// oneArg is cobra.ExactArgs(1) with a usage error naming what is expected.
func oneArg(what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != 1 {
			return usagef("%s expects %s (got %d arguments); see %s --help", cmd.CommandPath(), what, len(args), cmd.CommandPath())
		}
		return nil
	}
}
