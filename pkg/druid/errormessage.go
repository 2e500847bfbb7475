package druid

import (
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxMessageLength bounds, in characters, the text of an error answer an APIError carries. It is
// long enough for Druid's longest domain message about a 256-character user and a 256-character
// role ("Group mapping [...] already has role [...].") and short enough that an answer never
// floods a condition, an event or a log line.
const MaxMessageLength = 600

// truncationMark ends a message cut at MaxMessageLength.
const truncationMark = "…"

// errorMessage is the bounded, sanitised summary of an error answer that may reach status,
// events and logs: the "error" string of a JSON object body (Druid's {"error": "..."}), with
// control and formatting characters removed, whitespace runs folded into one space, and cut
// at MaxMessageLength. Any other body (HTML, plain text, JSON without an "error" string) gives
// "": the body of an answer from something that is not Druid is never reflected, only its
// status code is.
func errorMessage(data []byte) string {
	var body struct {
		Error *string `json:"error"`
	}
	if err := json.Unmarshal(data, &body); err != nil || body.Error == nil {
		return ""
	}
	return sanitize(*body.Error, MaxMessageLength)
}

// sanitize keeps the printable characters of s on one line: invalid UTF-8, control characters
// (newlines, escapes, NUL) and formatting characters (bidirectional overrides, zero-width
// characters) are removed, each run of whitespace becomes one space, and the result is cut to
// at most limit characters, the last of them truncationMark when something was cut.
func sanitize(s string, limit int) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToValidUTF8(s, "") {
		switch {
		case unicode.IsSpace(r):
			space = true
			continue
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), !unicode.IsPrint(r):
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	out := b.String()
	if utf8.RuneCountInString(out) <= limit {
		return out
	}
	runes := []rune(out)
	return strings.TrimRight(string(runes[:limit-utf8.RuneCountInString(truncationMark)]), " ") + truncationMark
}
