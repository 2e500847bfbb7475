// Package rollout holds the operator's pure rolling-restart logic: the order in which node groups
// and the manager roll, the maintenance windows that gate restarts driven by security material,
// and the gate that decides, from observed state alone, which group's pod template may change now.
//
// Nothing here talks to the API server or reads the clock: every function that depends on time
// takes it as an argument, so callers test with fixed instants or a fake clock. Decide is a
// function of its Input only, and the Input is built from API objects (pod-template annotations,
// StatefulSet and Deployment status, the ImplyCluster's spec and status), so an operator that is
// killed mid-rollout and started again takes exactly the decisions it would have taken: it
// neither repeats a finished group nor skips one.
//
// All times are UTC. Maintenance-window schedules are 5-field cron expressions (minute hour
// day-of-month month day-of-week) parsed by github.com/robfig/cron/v3, without descriptors such as
// @daily and without time-zone prefixes.
package rollout
