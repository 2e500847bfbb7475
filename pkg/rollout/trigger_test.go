package rollout

import "testing"

func TestTriggerOf(t *testing.T) {
	const (
		restart = "imply.operator.dev/restart"
		config  = "imply.operator.dev/config-revision"
		tls     = "imply.operator.dev/tls-revision"
		auth    = "imply.operator.dev/auth-revision"
		secrets = "imply.operator.dev/secrets-revision"
	)
	live := map[string]string{config: "c1", tls: "t1", auth: "a1"}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for key, val := range live {
			m[key] = val
		}
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct {
		name   string
		wanted map[string]string
		live   map[string]string
		other  bool
		want   Trigger
	}{
		{"nothing", live, live, false, 0},
		{"certificate", with(tls, "t2"), live, false, Security},
		{"token or credentials", with(auth, "a2"), live, false, Security},
		{"config", with(config, "c2"), live, false, SpecChange},
		{"the user's Secret (license, credentials)", with(secrets, "s2"), live, false, SpecChange},
		{"image", live, live, true, SpecChange},
		{"new restart value", with(restart, "1"), live, false, Restart},
		{"same restart value", with(restart, "1"), with(restart, "1"), false, 0},
		{"restart annotation removed", live, with(restart, "1"), false, 0},
		{"restart and certificate", func() map[string]string { m := with(restart, "2"); m[tls] = "t2"; return m }(),
			with(restart, "1"), false, Restart | Security},
		{"TLS turned off", with(tls, ""), live, true, SpecChange | Security},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := TriggerOf(tc.wanted, tc.live, tc.other); got != tc.want {
				t.Errorf("TriggerOf = %v, want %v", got, tc.want)
			}
		})
	}
}
