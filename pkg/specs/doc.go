// Package specs holds the pure builders of everything an ImplyCluster owns: object names,
// labels, ports, rendered Druid configuration, ConfigMaps, StatefulSets, Services,
// PodDisruptionBudgets, the Imply Manager Deployment and the status endpoints.
//
// Nothing here talks to the API server. Every builder is deterministic — maps are rendered in
// key order and every slice has a fixed order — so a reconciler can build the desired object,
// compare it with the live one and skip a no-op patch. Builders set namespace and labels but
// never owner references; the controller sets those.
package specs
