// Package monitoring checks what an on-call engineer gets from the
// operator: the alerts of config/prometheus (promtool's checks and a test
// per alert), the runbook every alert links, and, against a real
// Prometheus scraping the operator on a local control plane with the
// Lambda emulator, that each alert goes pending with the right labels and
// each query of the Grafana dashboard (config/grafana) returns data. The
// tests need bin/promtool and bin/prometheus (make tools) and are tagged
// integration, so make test runs them and make test-unit does not.
package monitoring
