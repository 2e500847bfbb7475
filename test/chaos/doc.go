// Package chaos is the fault campaign (make chaos; a short form runs in make test): a secured
// 3-group ImplyCluster on the simulated cluster goes through a CA rotation, an unattended renewal
// of every leaf, a rotation of the generated Druid passwords and an agent-token rotation, while
// the operator is SIGKILLed at random moments, the kube-apiserver and etcd are crashed and
// restarted, and the (fake) coordinator answers stretches of 5xx, timeouts and resets. A checker
// samples the apiserver every half second and judges, from the API and the pods' history (never
// from the operator's logs), that trust never breaks, no pod restarts more than its stage needs,
// groups roll one at a time in Druid's order, no Secret is lost or rewritten outside its stage,
// Druid holds the passwords the pods mount, and everything converges, after which a restarted
// operator writes nothing. docs/reliability.md describes it and how to replay a seed.
package chaos
