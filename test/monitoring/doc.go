// Package monitoring holds the tests of the operator's alerting rules and Grafana dashboard.
package monitoring
