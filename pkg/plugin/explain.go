package plugin

import (
	"fmt"
	"strings"
	"time"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/rollout"
)

// rollOrder lists the steps of a rollout of c, such as "data -> query -> master -> manager".
func rollOrder(c *implyv1alpha1.ImplyCluster) string {
	steps := rollout.Order(c.Spec.NodeGroups)
	names := make([]string, 0, len(steps))
	for _, s := range steps {
		names = append(names, s.Name)
	}
	return strings.Join(names, " -> ")
}

// paused reports spec.rollout.paused.
func paused(c *implyv1alpha1.ImplyCluster) bool {
	return c.Spec.Rollout != nil && c.Spec.Rollout.Paused
}

// SecurityGate says when a security-driven rollout (a CA rotation phase, renewed certificates) of c
// may start at now, from its maintenance windows, as pkg/rollout decides it: at once without
// windows or inside an open one, at the next window otherwise, held when no window parses.
func SecurityGate(c *implyv1alpha1.ImplyCluster, now time.Time) string {
	var specWindows []implyv1alpha1.MaintenanceWindow
	if c.Spec.Rollout != nil {
		specWindows = c.Spec.Rollout.MaintenanceWindows
	}
	if len(specWindows) == 0 {
		return "no maintenance windows are configured, so it rolls at once"
	}
	ws, err := rollout.ParseWindows(specWindows)
	if err != nil || len(ws) == 0 {
		return "the maintenance windows do not parse, so it is held (NoMaintenanceWindow) until they are fixed or a certificate expires within urgentBefore"
	}
	if open, end := rollout.InWindow(ws, now); open {
		return fmt.Sprintf("a maintenance window is open now, until %s: it starts at once", when(end, now))
	}
	next := rollout.NextWindow(ws, now)
	if next.IsZero() {
		return "no maintenance window opens within five years, so it is held (NoMaintenanceWindow)"
	}
	return fmt.Sprintf("it waits for the next maintenance window, %s, unless a live certificate expires within urgentBefore first", when(next, now))
}

// ExplainRestart says what setting the restart annotation of c to value does.
func ExplainRestart(c *implyv1alpha1.ImplyCluster, value string) []string {
	lines := []string{
		fmt.Sprintf("Set %s=%s on ImplyCluster %s/%s.", implyv1alpha1.AnnotationRestart, value, c.Namespace, c.Name),
	}
	if paused(c) {
		return append(lines, fmt.Sprintf("spec.rollout.paused holds every rollout: nothing restarts until `kubectl imply rollout resume %s`; then every group restarts in order %s.", c.Name, rollOrder(c)))
	}
	return append(lines,
		fmt.Sprintf("Every group restarts now, one at a time, each once the previous is updated and ready: %s.", rollOrder(c)),
		"A restart does not wait for a maintenance window. Follow it with `kubectl imply status "+c.Name+"` (rollout phase and current group).")
}

// ExplainRotateCA says what asking c for a CA rotation does, at now.
func ExplainRotateCA(c *implyv1alpha1.ImplyCluster, value, phaseInProgress string, now time.Time) []string {
	lines := []string{
		fmt.Sprintf("Set %s=%s on ImplyCluster %s/%s.", implyv1alpha1.AnnotationRotateCA, value, c.Namespace, c.Name),
		"The operator generates a new CA and moves to it in three phases, each rolled through every group (" + rollOrder(c) + ") before the next:",
		"  1. the bundle and truststores trust the old and the new CA;",
		"  2. the leaves are re-issued by the new CA;",
		"  3. the old CA is dropped once no live leaf chains to it.",
		"Trust never breaks: export the CA again (`kubectl imply ca " + c.Name + "`) and hand it to clients during phase 1 or 2.",
	}
	if phaseInProgress != "" {
		lines = append(lines, fmt.Sprintf("A rotation is already in progress (%s): this one starts after it finishes.", phaseInProgress))
	}
	if paused(c) {
		return append(lines, fmt.Sprintf("spec.rollout.paused holds every rollout: no phase rolls until `kubectl imply rollout resume %s`.", c.Name))
	}
	return append(lines, "Each phase is a security change: "+SecurityGate(c, now)+".")
}

// ExplainPause says what pausing (true) or resuming (false) the rollouts of c does, at now.
func ExplainPause(c *implyv1alpha1.ImplyCluster, pause bool, now time.Time) []string {
	if pause {
		if paused(c) {
			return []string{fmt.Sprintf("Rollouts of %s/%s are already paused; nothing changes.", c.Namespace, c.Name)}
		}
		return []string{
			fmt.Sprintf("Set spec.rollout.paused=true on ImplyCluster %s/%s.", c.Namespace, c.Name),
			"Every pod-template change is held, spec changes and restarts included (rollout phase Pending, reason Paused).",
			"A group whose pods are already being replaced finishes; no further group starts.",
			"Resume with `kubectl imply rollout resume " + c.Name + "`.",
		}
	}
	if !paused(c) {
		return []string{fmt.Sprintf("Rollouts of %s/%s are not paused; nothing changes.", c.Namespace, c.Name)}
	}
	return []string{
		fmt.Sprintf("Set spec.rollout.paused=false on ImplyCluster %s/%s.", c.Namespace, c.Name),
		"Held changes roll in order " + rollOrder(c) + ": spec changes and restarts at once;",
		"security changes (certificates, CA rotation, credentials): " + SecurityGate(c, now) + ".",
	}
}
