package plugin

import (
	"fmt"
	"io"
	"strconv"
	"time"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// renewSoonDays is where a certificate's days left turn from green to yellow.
const renewSoonDays = 30

// FormatStatus writes the report for people: sections of aligned tables, coloured when color is on.
func FormatStatus(w io.Writer, r StatusReport, color bool, now time.Time) {
	p := painter{color: color}
	section := func(title string) { fmt.Fprintf(w, "\n%s\n", p.paint(title, toneDim)) }

	fmt.Fprintf(w, "ImplyCluster %s/%s  version %s  TLS %s  generation %d (observed %d)\n",
		r.Namespace, r.Cluster, r.Version, onOff(r.TLS), r.Generation, r.ObservedGeneration)

	section("Conditions")
	if len(r.Conditions) == 0 {
		fmt.Fprintln(w, "  none yet: the operator has not reconciled this cluster")
	} else {
		rows := make([][]cell, 0, len(r.Conditions))
		for _, c := range r.Conditions {
			rows = append(rows, []cell{plain(c.Type), {c.Status, conditionTone(c.Type, c.Status)}, plain(c.Reason),
				plain(relative(c.LastTransitionTime, now)), plain(oneLine(c.Message))})
		}
		p.writeTable(w, []string{"TYPE", "STATUS", "REASON", "SINCE", "MESSAGE"}, rows)
	}

	section("Node groups")
	if len(r.NodeGroups) == 0 {
		fmt.Fprintln(w, "  none reported yet")
	} else {
		rows := make([][]cell, 0, len(r.NodeGroups))
		for _, g := range r.NodeGroups {
			t := toneGood
			if g.ReadyReplicas < g.Replicas || g.UpdatedReplicas < g.Replicas {
				t = toneWarn
			}
			rows = append(rows, []cell{plain(g.Name), plain(string(g.Type)), plain(strconv.Itoa(int(g.Replicas))),
				{strconv.Itoa(int(g.ReadyReplicas)), t}, {strconv.Itoa(int(g.UpdatedReplicas)), t}, plain(g.Revision)})
		}
		p.writeTable(w, []string{"NAME", "TYPE", "REPLICAS", "READY", "UPDATED", "REVISION"}, rows)
	}

	if r.TLS {
		section("Certificates")
		if len(r.Certificates) == 0 {
			fmt.Fprintln(w, "  none reported yet")
		} else {
			rows := make([][]cell, 0, len(r.Certificates))
			for _, c := range r.Certificates {
				notAfter, days, renewal := "-", cell{Text: "-"}, "-"
				if c.NotAfter != nil {
					notAfter = c.NotAfter.Format(time.RFC3339)
					days = cell{strconv.Itoa(*c.DaysLeft), daysTone(*c.DaysLeft)}
				}
				if c.RenewalTime != nil {
					renewal = when(*c.RenewalTime, now)
				}
				rows = append(rows, []cell{plain(c.SecretName), plain(notAfter), days, plain(renewal), plain(c.Serial)})
			}
			p.writeTable(w, []string{"SECRET", "NOT AFTER", "DAYS LEFT", "NEXT RENEWAL", "SERIAL"}, rows)
		}
		formatCA(w, p, r.CA)
	}

	section("Rollout")
	ro := r.Rollout
	fmt.Fprintf(w, "  phase %s", p.paint(ro.Phase, rolloutTone(ro.Phase)))
	if ro.Reason != "" {
		fmt.Fprintf(w, " (%s)", ro.Reason)
	}
	if ro.CurrentGroup != "" {
		fmt.Fprintf(w, ", rolling %s", ro.CurrentGroup)
	}
	fmt.Fprintln(w)
	if ro.Paused {
		fmt.Fprintf(w, "  %s: spec.rollout.paused holds every rollout (kubectl imply rollout resume %s)\n", p.paint("paused", toneWarn), r.Cluster)
	}
	if ro.NextWindow != nil {
		fmt.Fprintf(w, "  next window %s\n", when(*ro.NextWindow, now))
	}
	if len(ro.Windows) > 0 {
		for _, win := range ro.Windows {
			fmt.Fprintf(w, "  window %s (UTC)\n", win)
		}
	} else {
		fmt.Fprintln(w, "  no maintenance windows: security changes roll at once")
	}

	section("Endpoints")
	e := r.Endpoints
	rows := [][]cell{}
	for _, kv := range [][2]string{{"manager", e.Manager}, {"router", e.Router}, {"coordinator", e.Coordinator}, {"pivot", e.Pivot}} {
		if kv[1] != "" {
			rows = append(rows, []cell{plain(kv[0]), plain(kv[1])})
		}
	}
	if len(rows) == 0 {
		fmt.Fprintln(w, "  none reported yet")
	} else {
		p.writeTable(w, []string{"SERVICE", "URL"}, rows)
	}

	section("AuthTokens")
	formatObjects(w, p, r.AuthTokens, false, now)
	section("DruidRoles")
	formatObjects(w, p, r.DruidRoles, true, now)
}

// formatCA writes the CA section.
func formatCA(w io.Writer, p painter, ca *CAView) {
	if ca == nil {
		return
	}
	fmt.Fprintf(w, "\n%s\n", p.paint("CA", toneDim))
	fmt.Fprintf(w, "  source %s\n", ca.Source)
	if ca.BundleProblem != "" {
		fmt.Fprintf(w, "  bundle: %s\n", p.paint(ca.BundleProblem, toneWarn))
	}
	if len(ca.Trusted) > 0 {
		rows := make([][]cell, 0, len(ca.Trusted))
		for i, t := range ca.Trusted {
			role := "trusted"
			if i == 0 {
				role = "signing"
			}
			if ca.Source != "generated" {
				role = "trusted"
			}
			rows = append(rows, []cell{plain(role), plain(t.Subject), plain(t.NotAfter.Format(time.RFC3339)),
				{strconv.Itoa(t.DaysLeft), daysTone(t.DaysLeft)}, plain(t.Serial)})
		}
		p.writeTable(w, []string{"ROLE", "SUBJECT", "NOT AFTER", "DAYS LEFT", "SERIAL"}, rows)
	}
	switch {
	case ca.RotationPhase != "":
		desc := caRotationPhases[ca.RotationPhase]
		if desc == "" {
			desc = "phase " + ca.RotationPhase
		}
		fmt.Fprintf(w, "  rotation %s: %s\n", p.paint("in progress", toneWarn), desc)
	case ca.RotationPending != "":
		fmt.Fprintf(w, "  rotation %s (rotate-ca %q not started by the operator yet)\n", p.paint("requested", toneWarn), ca.RotationPending)
	default:
		fmt.Fprintln(w, "  rotation none in progress")
	}
}

// formatObjects writes the AuthTokens or DruidRoles table.
func formatObjects(w io.Writer, p painter, objs []ObjectView, roles bool, now time.Time) {
	if len(objs) == 0 {
		fmt.Fprintln(w, "  none")
		return
	}
	rows := make([][]cell, 0, len(objs))
	for _, o := range objs {
		row := []cell{plain(o.Name), plain(o.Detail), {o.Ready, conditionTone(implyv1alpha1.ConditionReady, o.Ready)}}
		if roles {
			row = append(row, cell{o.Synced, conditionTone(implyv1alpha1.ConditionSynced, o.Synced)})
		} else {
			next := "-"
			if o.NextRotation != nil {
				next = when(*o.NextRotation, now)
			}
			row = append(row, plain(next))
		}
		reason := o.Reason
		if o.Message != "" && o.Ready != "True" {
			reason += ": " + oneLine(o.Message)
		}
		rows = append(rows, append(row, plain(reason)))
	}
	header := []string{"NAME", "WHAT", "READY", "NEXT ROTATION", "REASON"}
	if roles {
		header = []string{"NAME", "WHAT", "READY", "SYNCED", "REASON"}
	}
	p.writeTable(w, header, rows)
}

// conditionTone is green when a condition is as it should be: True for most, False for Degraded
// and RestartPending.
func conditionTone(condType, status string) tone {
	negative := condType == implyv1alpha1.ConditionDegraded || condType == implyv1alpha1.ConditionRestartPending ||
		condType == implyv1alpha1.ConditionProgressing
	switch {
	case status == "Unknown" || status == "":
		return toneWarn
	case condType == implyv1alpha1.ConditionProgressing:
		if status == "True" {
			return toneWarn
		}
		return toneGood
	case (status == "True") != negative:
		return toneGood
	case condType == implyv1alpha1.ConditionRestartPending:
		return toneWarn
	default:
		return toneBad
	}
}

// daysTone is red once expired or within a week, yellow within renewSoonDays.
func daysTone(days int) tone {
	switch {
	case days < 7:
		return toneBad
	case days < renewSoonDays:
		return toneWarn
	default:
		return toneGood
	}
}

func rolloutTone(phase string) tone {
	switch phase {
	case string(implyv1alpha1.RolloutIdle):
		return toneGood
	default:
		return toneWarn
	}
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
