package argocd

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/imply-operator/imply-operator/test/testenv"
)

// healthKeyPrefix is how argocd-cm names a health check: <prefix><group>_<kind>.
const healthKeyPrefix = "resource.customizations.health."

// health is what an Argo CD health check returns.
type health struct {
	Status  string
	Message string
}

// healthScripts reads docs/argocd.md, finds the argocd-cm ConfigMap in its YAML blocks and
// returns its health checks by kind, for the imply.operator.dev group.
func healthScripts() (map[string]string, error) {
	doc, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "docs", "argocd.md"))
	if err != nil {
		return nil, err
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	for _, b := range blocks {
		var cm corev1.ConfigMap
		if err := yaml.UnmarshalStrict([]byte(b[1]), &cm); err != nil || cm.Kind != "ConfigMap" || cm.Name != "argocd-cm" {
			continue
		}
		scripts := map[string]string{}
		for key, script := range cm.Data {
			if rest, ok := strings.CutPrefix(key, healthKeyPrefix+"imply.operator.dev_"); ok {
				scripts[rest] = script
			}
		}
		return scripts, nil
	}
	return nil, fmt.Errorf("docs/argocd.md has no yaml block with the argocd-cm ConfigMap (%d yaml blocks)", len(blocks))
}

// runHealthCheck runs script on obj the way Argo CD does (util/lua in argo-cd): a fresh state
// with only the package, base and table libraries open, a one-second deadline, the object as
// the global obj, and the returned table read as {status, message}. Argo CD also opens a
// restricted os library; these scripts do not use it, and leaving it out keeps them honest.
func runHealthCheck(script string, obj map[string]any) (health, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.LoadLibName, lua.OpenPackage}, {lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return health{}, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, obj))
	if err := l.DoString(script); err != nil {
		return health{}, err
	}
	table, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return health{}, fmt.Errorf("the health check returned %s, not a table", l.Get(-1).Type())
	}
	// Argo CD encodes the table to JSON and decodes it into its HealthStatus.
	var h struct {
		Status  string `json:"status"`
		Message string `json:"message"`
	}
	data, err := json.Marshal(fromLua(table))
	if err != nil {
		return health{}, err
	}
	if err := json.Unmarshal(data, &h); err != nil {
		return health{}, err
	}
	switch h.Status {
	case "Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown":
	default:
		return health{}, fmt.Errorf("invalid health status %q (Argo CD shows Unknown)", h.Status)
	}
	return health(h), nil
}

// toLua converts a JSON-like value as Argo CD's decodeValue does: numbers of every Go type become
// Lua numbers, slices become arrays, maps become tables, anything else nil.
func toLua(l *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case bool:
		return lua.LBool(v)
	case string:
		return lua.LString(v)
	case json.Number:
		return lua.LString(v)
	case float64:
		return lua.LNumber(v)
	case int:
		return lua.LNumber(v)
	case int32:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case []any:
		t := l.CreateTable(len(v), 0)
		for _, item := range v {
			t.Append(toLua(l, item))
		}
		return t
	case map[string]any:
		t := l.CreateTable(0, len(v))
		for k, item := range v {
			t.RawSetH(lua.LString(k), toLua(l, item))
		}
		return t
	default:
		return lua.LNil
	}
}

// fromLua converts a returned Lua value back to Go for JSON encoding.
func fromLua(v lua.LValue) any {
	switch v := v.(type) {
	case lua.LBool:
		return bool(v)
	case lua.LNumber:
		return float64(v)
	case lua.LString:
		return string(v)
	case *lua.LTable:
		// A table of keys 1..n is an array, as Argo CD encodes it; any other table an object.
		if n := v.MaxN(); n > 0 && v.Len() == n && countKeys(v) == n {
			list := make([]any, 0, n)
			for i := 1; i <= n; i++ {
				list = append(list, fromLua(v.RawGetInt(i)))
			}
			return list
		}
		m := map[string]any{}
		v.ForEach(func(k, value lua.LValue) { m[k.String()] = fromLua(value) })
		return m
	default:
		return nil
	}
}

// countKeys counts the keys of a table.
func countKeys(t *lua.LTable) int {
	n := 0
	t.ForEach(func(lua.LValue, lua.LValue) { n++ })
	return n
}
