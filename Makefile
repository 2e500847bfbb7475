# imply-operator — the two commands a person needs are `make demo` and `make test`.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

# The release version: VERSION, the chart's appVersion and the image tag agree (make verify checks).
VERSION := $(shell cat VERSION)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
IMAGE_REPOSITORY := ghcr.io/imply-operator/imply-operator
IMG ?= $(IMAGE_REPOSITORY):$(VERSION)
BIN := $(CURDIR)/bin
CONTROLLER_GEN := $(BIN)/controller-gen
HELM := $(BIN)/helm
KUBECTL := $(BIN)/k8s/kubectl
CHART := charts/imply-operator
export KUBEBUILDER_ASSETS := $(BIN)/k8s

# Static binary stamped with the version, the same flags the Dockerfile uses.
VERSION_PKG := github.com/imply-operator/imply-operator/pkg/version
GO_BUILD_FLAGS := -trimpath -ldflags "-s -w -X $(VERSION_PKG).version=$(VERSION) -X $(VERSION_PKG).commit=$(COMMIT)"

# Every module of the repository: the operator and the nested tools modules under hack/.
MODULES := . hack/tools/kubernetes hack/tools/etcd hack/tools/benchplot hack/tools/release test/monitoring

.PHONY: all
all: build

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_-]+:.*##/ {printf "  %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

##@ Tools and control plane (built from Go modules, cached outside the clone)

.PHONY: tools
tools: ## Build controller-gen, helm and golangci-lint into bin/.
	hack/control-plane.sh tools

.PHONY: envtest-assets
envtest-assets: ## Build kube-apiserver and etcd into bin/k8s (KUBEBUILDER_ASSETS).
	hack/control-plane.sh envtest

.PHONY: sim-assets
sim-assets: ## Add kube-controller-manager, kube-scheduler, kubectl and kwok for the simulated cluster.
	hack/control-plane.sh sim

##@ Development

.PHONY: generate
generate: tools ## Generate deepcopy code.
	$(CONTROLLER_GEN) object:headerFile=hack/boilerplate.go.txt paths=./api/...

.PHONY: manifests
manifests: tools ## Generate CRDs and RBAC from the API and the RBAC markers, and write both into the Helm chart (CRDs as templates).
	$(CONTROLLER_GEN) crd rbac:roleName=manager-role paths=./api/... paths=./controllers/... \
		output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac
	hack/chart-crds.sh config/crd/bases $(CHART)/templates/crds
	cp config/rbac/role.yaml $(CHART)/files/manager-role.yaml

.PHONY: tidy
tidy: ## go mod tidy every module.
	@for m in $(MODULES); do (cd $$m && go mod tidy); done

.PHONY: helm-lint
helm-lint: tools ## Lint the Helm chart with its default values and with each values file in its ci/ directory.
	$(HELM) lint --strict $(CHART)
	@for f in $(CHART)/ci/*-values.yaml; do echo "$(HELM) lint --strict $(CHART) -f $$f"; $(HELM) lint --strict $(CHART) -f $$f; done

.PHONY: chart
chart: manifests helm-lint ## Package the Helm chart into bin/charts.
	$(HELM) package $(CHART) --destination $(BIN)/charts

.PHONY: verify
verify: generate manifests tidy helm-lint check-version ## Regenerate everything (CRDs, RBAC, deepcopy, the chart's CRDs and rules), lint the chart, check the version, and fail if anything changed.
	@if [ -n "$$(git status --porcelain -- . ':!bin')" ]; then \
		echo "Generated files or go.mod/go.sum are stale; run 'make generate manifests tidy' and commit:"; \
		git status --porcelain -- . ':!bin'; git --no-pager diff --stat; exit 1; fi

.PHONY: check-version
check-version: ## Check VERSION, the chart's appVersion, the image values and CHANGELOG.md agree.
	hack/check-version.sh $(VERSION) $(IMAGE_REPOSITORY)

.PHONY: fmt
fmt: ## gofmt the code.
	gofmt -w $$(git ls-files '*.go')

.PHONY: lint
lint: tools ## go vet, then golangci-lint (.golangci.yml, which also checks gofmt).
	go vet ./...
	$(BIN)/golangci-lint run --allow-parallel-runners ./...

.PHONY: build
build: ## Build the operator binary into bin/imply-operator.
	CGO_ENABLED=0 go build $(GO_BUILD_FLAGS) -o $(BIN)/imply-operator .

.PHONY: plugin
plugin: ## Build the kubectl plugin into bin/kubectl-imply (put bin/ on the PATH: kubectl imply --help).
	CGO_ENABLED=0 go build $(GO_BUILD_FLAGS) -o $(BIN)/kubectl-imply ./cmd/kubectl-imply

PLUGIN_VERSION ?= v0.1.0
PLUGIN_PLATFORMS ?=

.PHONY: plugin-krew
plugin-krew: ## Build the plugin's krew archives and manifest into bin/krew (PLUGIN_VERSION, PLUGIN_PLATFORMS="linux/amd64 ...").
	hack/krew/render.sh $(PLUGIN_VERSION) $(BIN)/krew $(PLUGIN_PLATFORMS)

.PHONY: release-artifacts
release-artifacts: ## Static binaries for linux/amd64 and linux/arm64 and a multi-platform OCI image layout (bin/release/oci), without a container engine.
	cd hack/tools/release && go run . -root $(CURDIR) -out $(BIN)/release -version $(VERSION) -commit $(COMMIT)

.PHONY: docker-build
docker-build: ## Build the image with a container engine (docker buildx build --platform linux/amd64,linux/arm64 works too).
	docker build --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) -t $(IMG) .

.PHONY: run
run: manifests ## Run the operator against the cluster in KUBECONFIG (leader election and webhooks off).
	go run . --leader-elect=false

.PHONY: install
install: manifests ## Install the CRDs into the cluster in KUBECONFIG.
	kubectl apply --server-side -f config/crd/bases

##@ Apache Druid (from Maven Central with Maven, cached outside the clone; see hack/druid/README.md)

DRUID_LOCAL := $(BIN)/druid-local

.PHONY: druid-fetch
druid-fetch: ## Fetch Apache Druid, druid-basic-security and ZooKeeper (Druid's dependency) with Maven (fetched too when missing) into ~/.cache/imply-operator/.
	hack/druid/druid.sh fetch

.PHONY: druid-start
druid-start: ## Start a coordinator (as overlord too) on loopback: Derby, ZooKeeper, basic security, 127.0.0.1:8081.
	hack/druid/local.sh start $(DRUID_LOCAL)

.PHONY: druid-stop
druid-stop: ## Stop the coordinator and ZooKeeper druid-start started.
	hack/druid/local.sh stop $(DRUID_LOCAL)

.PHONY: metadatastore-fetch
metadatastore-fetch: ## Fetch the JDBC drivers (pgjdbc, MySQL Connector/J) with Maven into ~/.cache/imply-operator/; installs PostgreSQL 15 and MariaDB from Debian when missing (as root).
	hack/metadatastore/drivers.sh check
	hack/metadatastore/drivers.sh fetch

.PHONY: test-metadatastore
test-metadatastore: metadatastore-fetch ## Prove metadata-store TLS and client certificates against real PostgreSQL 15 and MariaDB on loopback.
	go test ./test/metadatastore/ -count=1 -v -timeout 10m

.PHONY: test-realdruid
test-realdruid: envtest-assets druid-fetch ## Prove the operator's Druid side on a real coordinator started from its own output.
	go test ./test/realdruid/ -count=1 -v -timeout 20m

##@ Test

.PHONY: e2e
e2e: sim-assets ## The operator binary on the simulated cluster: Ready with real pods, CA rotation rolled group by group, and the same after a SIGKILL mid-rollout (also part of make test).
	go test ./test/e2e/ -count=1 -v -timeout 15m

.PHONY: chaos
chaos: sim-assets ## The full fault campaign (docs/reliability.md): >= 20 operator SIGKILLs, apiserver and etcd crashes, coordinator faults through a CA rotation, leaf renewal, password and token rotations; CHAOS_SEED replays a run; report in bin/chaos (make test runs the short form).
	CHAOS_FULL=1 go test ./test/chaos/ -count=1 -v -timeout 45m

# Nested modules with tests, which `go test ./...` at the root does not enter.
TEST_MODULES := test/monitoring hack/tools/release

.PHONY: test-monitoring
test-monitoring: tools ## The chart's alerting rules under promtool (built from Go modules) and the Grafana dashboard's PromQL against the registered metrics (also part of make test).
	cd test/monitoring && go test ./... -count=1 -v -timeout 20m

.PHONY: unit
unit: ## Every test that needs no apiserver, simulated cluster or JVM (the envtest suites are the TestEnvtest* tests).
	go test -count=1 -skip '^TestEnvtest' ./api/... ./pkg/... ./controllers/... ./internal/...

.PHONY: test
test: envtest-assets sim-assets tools druid-fetch metadatastore-fetch lint ## Run every test: unit, envtest (real apiserver), the simulated cluster, a real Druid and real metadata stores.
	$(MAKE) bench BENCH_SHORT=1
	@rc=0; ( a=0; go test ./... -count=1 -timeout 40m || a=$$?; \
		for m in $(TEST_MODULES); do (cd $$m && go test ./... -count=1 -timeout 20m) || a=$$?; done; exit $$a ) 2>&1 | tee $(BIN)/test.log || rc=$$?; \
	passed=$$(grep -c '^ok ' $(BIN)/test.log || true); failed=$$(grep -c '^FAIL[[:space:]]' $(BIN)/test.log || true); \
	echo; echo "packages: $$passed passed, $$failed failed"; exit $$rc

BENCH_DIR := $(BIN)/bench

.PHONY: bench
bench: envtest-assets ## Benchmarks on the envtest control plane and of the PKI (docs/performance.md); BENCH_SHORT=1 only proves they run.
	go run ./test/bench $(if $(filter 1,$(BENCH_SHORT)),-short) -out $(BENCH_DIR)/results.json
	cd hack/tools/benchplot && go run . -in $(BENCH_DIR)/results.json -out $(BENCH_DIR)/performance.png
	go test -run '^$$' -bench . -benchmem $(if $(filter 1,$(BENCH_SHORT)),-benchtime 1x) ./pkg/pki

.PHONY: demo
demo: sim-assets build ## Simulated cluster, operator, samples all Ready (fake coordinator), kubectl imply status/ca/restart; DEMO_HOLD=1 keeps it up.
	go run ./hack/demo
