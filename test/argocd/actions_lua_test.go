package argocd

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	lua "github.com/yuin/gopher-lua"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/imply-operator/imply-operator/test/testenv"
)

// actionsKey is the argocd-cm key of the ImplyCluster's resource actions.
const actionsKey = "resource.customizations.actions.imply.operator.dev_ImplyCluster"

// resourceActions is the value of an argocd-cm actions key: a discovery script and one script per action.
type resourceActions struct {
	Discovery   string `json:"discovery.lua"`
	Definitions []struct {
		Name   string `json:"name"`
		Action string `json:"action.lua"`
	} `json:"definitions"`
}

// actionScripts reads the ImplyCluster's resource actions from the argocd-cm ConfigMaps in the
// YAML blocks of docs/argocd.md.
func actionScripts() (resourceActions, error) {
	var out resourceActions
	doc, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "docs", "argocd.md"))
	if err != nil {
		return out, err
	}
	for _, b := range regexp.MustCompile("(?s)```yaml\\n(.*?)```").FindAllStringSubmatch(string(doc), -1) {
		var cm corev1.ConfigMap
		if err := yaml.UnmarshalStrict([]byte(b[1]), &cm); err != nil || cm.Kind != "ConfigMap" || cm.Name != "argocd-cm" {
			continue
		}
		if value, ok := cm.Data[actionsKey]; ok {
			err := yaml.UnmarshalStrict([]byte(value), &out)
			return out, err
		}
	}
	return out, fmt.Errorf("docs/argocd.md has no argocd-cm block with %s", actionsKey)
}

// newActionState is a Lua state as Argo CD prepares one for resource actions: the package,
// base and table libraries, and an os module with only time and date (Argo CD's safe os
// library), loaded with require("os").
func newActionState() (*lua.LState, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.LoadLibName, lua.OpenPackage}, {lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.OsLibName, lua.OpenOs}} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			l.Close()
			return nil, err
		}
	}
	full, ok := l.GetGlobal(lua.OsLibName).(*lua.LTable)
	if !ok {
		l.Close()
		return nil, fmt.Errorf("no os library")
	}
	safe := l.NewTable()
	for _, name := range []string{"time", "date"} {
		safe.RawSetString(name, full.RawGetString(name))
	}
	l.SetGlobal(lua.OsLibName, lua.LNil)
	l.PreloadModule(lua.OsLibName, func(l *lua.LState) int {
		l.Push(safe)
		return 1
	})
	return l, nil
}

// runLua runs script with obj as the global obj and returns what it returns, as Go values.
func runLua(script string, obj map[string]any) (any, error) {
	l, err := newActionState()
	if err != nil {
		return nil, err
	}
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, obj))
	if err := l.DoString(script); err != nil {
		return nil, err
	}
	return fromLua(l.Get(-1)), nil
}

// discoveredAction is what the discovery script says of one action.
type discoveredAction struct {
	Disabled  bool   `json:"disabled"`
	IconClass string `json:"iconClass"`
}

// discoverActions runs the discovery script on obj.
func discoverActions(actions resourceActions, obj map[string]any) (map[string]discoveredAction, error) {
	result, err := runLua(actions.Discovery, obj)
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(result)
	if err != nil {
		return nil, err
	}
	out := map[string]discoveredAction{}
	return out, json.Unmarshal(data, &out)
}

// runAction runs the named action on obj and returns the object it gives back.
func runAction(actions resourceActions, name string, obj map[string]any) (map[string]any, error) {
	for _, d := range actions.Definitions {
		if d.Name != name {
			continue
		}
		result, err := runLua(d.Action, obj)
		if err != nil {
			return nil, err
		}
		out, ok := restoreEmptyLists(result, obj).(map[string]any)
		if !ok {
			return nil, fmt.Errorf("action %s returned %T, not an object", name, result)
		}
		return out, nil
	}
	return nil, fmt.Errorf("no action %s", name)
}

// restoreEmptyLists gives back the empty lists of orig that came out of Lua as empty tables,
// which Lua cannot tell from empty objects (Argo CD cleans the returned object the same way).
func restoreEmptyLists(returned, orig any) any {
	switch r := returned.(type) {
	case map[string]any:
		if o, ok := orig.([]any); ok && len(r) == 0 && len(o) == 0 {
			return []any{}
		}
		o, _ := orig.(map[string]any)
		for k, v := range r {
			r[k] = restoreEmptyLists(v, o[k])
		}
		return r
	case []any:
		o, _ := orig.([]any)
		for i, v := range r {
			var oi any
			if i < len(o) {
				oi = o[i]
			}
			r[i] = restoreEmptyLists(v, oi)
		}
		return r
	default:
		return returned
	}
}
