package specs

import (
	"encoding/json"
	"sort"
	"strings"
	"unicode"
)

// ownedKeyPrefixes are the Druid properties the operator owns for security: authentication,
// authorization and the escalator, TLS on servers and clients, which ports are open, and the
// metadata-store password and TLS.
var ownedKeyPrefixes = []string{
	"druid.auth.",
	"druid.escalator.",
	"druid.server.https.",
	"druid.client.https.",
	"druid.enablePlaintextPort",
	"druid.enableTlsPort",
	"druid.tlsPort",
	"druid.metadata.storage.connector.password",
	"druid.metadata.mysql.ssl.",
	"druid.metadata.postgres.ssl.",
}

// ownedSystemPropertyPrefixes are the JVM system properties that change what a JVM trusts, which
// TLS versions and algorithms it accepts, its security providers and policy, or that print TLS
// secrets (javax.net.debug). A Druid process takes them from -D options (the peons' from the
// middleManager's druid.indexer.fork.property.* and javaOpts).
var ownedSystemPropertyPrefixes = []string{
	"javax.net.ssl.",
	"javax.net.debug",
	"java.security.",
	"jdk.tls.",
	"jdk.certpath.",
	"jdk.security.",
	"sun.security.",
	"com.sun.net.ssl.",
	"https.protocols",
	"https.cipherSuites",
}

// ForkPropertyPrefix starts the middleManager properties it hands to every peon it forks, as
// -D<key>=<value> with the prefix removed.
const ForkPropertyPrefix = "druid.indexer.fork.property."

// Properties holding the JVM options of the peons a middleManager forks.
const (
	// JavaOptsKey is a whitespace-separated list of options (double quotes group).
	JavaOptsKey = "druid.indexer.runner.javaOpts"
	// JavaOptsArrayKey is a JSON array of options.
	JavaOptsArrayKey = "druid.indexer.runner.javaOptsArray"
)

// IsOperatorOwnedKey reports whether a property is owned by the operator, so a user value for
// it is ignored: a security property of Druid or a security system property of the JVM, also
// behind any number of druid.indexer.fork.property. prefixes (the copies peons get).
func IsOperatorOwnedKey(key string) bool {
	for strings.HasPrefix(key, ForkPropertyPrefix) {
		key = strings.TrimPrefix(key, ForkPropertyPrefix)
	}
	for _, prefixes := range [][]string{ownedKeyPrefixes, ownedSystemPropertyPrefixes} {
		for _, p := range prefixes {
			if strings.HasPrefix(key, p) {
				return true
			}
		}
	}
	return false
}

// ownedJVMOption reports whether a JVM option would set something the operator owns, and names
// it without its value: -D<owned property>[=value] (named -D<property>), or an option that reads
// further options from a file the operator cannot see (@argfile, -XX:VMOptionsFile=,
// -XX:Flags=; named without the file).
func ownedJVMOption(opt string) (string, bool) {
	opt = strings.ReplaceAll(opt, `"`, "") // quotes stay in Druid's options: judge without them
	switch {
	case strings.HasPrefix(opt, "-D"):
		name, _, _ := strings.Cut(opt[2:], "=")
		return "-D" + name, IsOperatorOwnedKey(name)
	case strings.HasPrefix(opt, "@"):
		return "@argfile", true
	case strings.HasPrefix(opt, "-XX:VMOptionsFile="), strings.HasPrefix(opt, "-XX:Flags="):
		name, _, _ := strings.Cut(opt, "=")
		return name, true
	}
	return "", false
}

// filterJVMOptions drops the options ownedJVMOption owns and returns the rest in order, with
// what it dropped as "<key>: <option name>".
func filterJVMOptions(key string, opts []string) (kept, dropped []string) {
	kept = make([]string, 0, len(opts))
	for _, o := range opts {
		if name, owned := ownedJVMOption(o); owned {
			dropped = append(dropped, key+": "+name)
			continue
		}
		kept = append(kept, o)
	}
	return kept, dropped
}

// splitJavaOpts splits javaOpts as Druid does (QuotableWhiteSpaceSplitter): on breaking
// whitespace outside double quotes, which stay in the option.
func splitJavaOpts(s string) []string {
	var opts []string
	var cur strings.Builder
	quoted := false
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
			cur.WriteRune(r)
		case breakingWhitespace(r) && !quoted:
			if cur.Len() > 0 {
				opts = append(opts, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		opts = append(opts, cur.String())
	}
	return opts
}

// applyUserProperties copies user into props, user winning, except what the operator owns,
// which it returns sorted, by name and never with its value:
//   - a key IsOperatorOwnedKey owns is dropped;
//   - in druid.indexer.runner.javaOpts and javaOptsArray, each option that sets an owned system
//     property or reads options from a file is dropped (reported as "<key>: -D<property>") and
//     the rest applied; a javaOptsArray that is not a JSON array of strings is dropped whole;
//   - druid.extensions.loadList is merged with required (see MergeExtensions), or dropped when
//     it is not a JSON array of strings.
func applyUserProperties(props, user map[string]string, required []string) []string {
	var ignored []string
	for k, v := range user {
		switch {
		case IsOperatorOwnedKey(k):
			ignored = append(ignored, k)
			continue
		case k == LoadListKey:
			merged, ok := MergeExtensions(v, required)
			if !ok {
				ignored = append(ignored, k)
				continue
			}
			v = merged
		case k == JavaOptsKey:
			kept, dropped := filterJVMOptions(k, splitJavaOpts(v))
			if len(dropped) > 0 {
				ignored = append(ignored, dropped...)
				v = strings.Join(kept, " ")
			}
		case k == JavaOptsArrayKey:
			var opts []string
			if err := json.Unmarshal([]byte(v), &opts); err != nil {
				ignored = append(ignored, k)
				continue
			}
			kept, dropped := filterJVMOptions(k, opts)
			if len(dropped) > 0 {
				ignored = append(ignored, dropped...)
				v = mustJSON(kept)
			}
		}
		props[k] = v
	}
	sort.Strings(ignored)
	return ignored
}

// breakingWhitespace is Guava's CharMatcher.BREAKING_WHITESPACE: Unicode white space but the
// no-break spaces.
func breakingWhitespace(r rune) bool {
	return unicode.IsSpace(r) && r != '\u00a0' && r != '\u2007' && r != '\u202f'
}
