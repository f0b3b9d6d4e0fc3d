# lambda-permission-operator — developer entry points. `make help` lists them.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

GO        ?= go
# Seconds each fuzz target runs under `make fuzz`; `make test` runs only their seed corpora.
FUZZTIME  ?= 30s
EMULATOR_ADDR       ?= 127.0.0.1:9001
EMULATOR_REGION     ?= us-east-2
EMULATOR_ACCOUNT_ID ?= 123456789012

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_-]+:.*##/ {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: test
test: fmt-check vet lint-workflows control-plane tools ## Run every test: unit, emulator through the SDK, envtest integration (-tags integration), fuzz seed corpora.
	KUBEBUILDER_ASSETS="$$(hack/control-plane/build.sh)" $(GO) test -race -tags integration -count=1 ./...

.PHONY: test-unit
test-unit: ## Run the unit tests (no integration tag): no kube-apiserver, helm, kustomize or bin/, well under a minute.
	$(GO) test -race -count=1 ./...

.PHONY: test-faults
test-faults: control-plane ## Run the fault, outage and soak tests of controllers/resilience at full scale (under twenty minutes on two cores), and the differential fuzzing of admission at 5000 inputs (under a minute).
	KUBEBUILDER_ASSETS="$$(hack/control-plane/build.sh)" RESILIENCE_SCALE=full $(GO) test -tags integration -count=1 -timeout 30m -v ./controllers/resilience/
	KUBEBUILDER_ASSETS="$$(hack/control-plane/build.sh)" RESILIENCE_SCALE=full $(GO) test -tags integration -count=1 -timeout 10m -v -run '^TestDifferentialAdmission$$' ./api/v1alpha1/

.PHONY: demo
demo: control-plane manager ## Run the operator on a local control plane against the Lambda emulator with config/samples (DEMO_ONCE=1: check and exit).
	$(GO) build -o bin/demo ./hack/demo
	KUBEBUILDER_ASSETS="$$(hack/control-plane/build.sh)" bin/demo

.PHONY: gitops
gitops: control-plane tools ## Flux and Argo CD, built from their Go modules, apply, wait on and prune our objects, and Argo CD installs the chart, on a local control plane (hack/gitops; needs redis-server). Not part of test: built with empty Go caches, it takes about 40 minutes (the control plane, Flux and Argo CD).
	@command -v redis-server >/dev/null || { echo "make gitops: Argo CD needs redis-server (apt-get install redis-server)"; exit 1; }
	FLUX_DIR="$$(hack/gitops/build-flux.sh)" ARGO_DIR="$$(hack/gitops/build-argocd.sh)" KUBEBUILDER_ASSETS="$$(hack/control-plane/build.sh)" \
		$(GO) test -tags 'integration gitops' -count=1 -timeout 30m -v ./hack/gitops/

.PHONY: e2e
e2e: ## A real one-node cluster built from source (root): the chart installed, the operator's image, every sample Ready, leader handover, upgrade to a new image tag keeping every statement, uninstall keeping the CRDs. Not part of test.
	hack/e2e/run.sh

.PHONY: bench
bench: control-plane manager ## Measure throughput at AWS's quotas, calls, latency and memory; prints one table (flags: BENCH_ARGS).
	$(GO) build -o bin/bench ./hack/bench
	KUBEBUILDER_ASSETS="$$(hack/control-plane/build.sh)" bin/bench $(BENCH_ARGS)

# How long make soak churns (a Go duration); SOAK=3m is a quick check.
SOAK ?= 30m

.PHONY: soak
soak: control-plane manager ## Run bin/manager for SOAK (30m) under churn of a few hundred objects, faults and a foreign writer; print its RSS, heap, goroutines, connections and metric series every minute and their slopes; fail on growth past a bound or objects and policies that disagree (hack/soak).
	KUBEBUILDER_ASSETS="$$(hack/control-plane/build.sh)" SOAK='$(SOAK)' $(GO) test -tags 'integration soak' -count=1 -timeout 0 -v -run '^TestSoak$$' ./hack/soak/

.PHONY: control-plane
control-plane: ## Build kube-apiserver, kubectl and etcd from source into bin/ (skipped when present).
	@hack/control-plane/build.sh >/dev/null

.PHONY: tools
tools: ## Build helm and kustomize from source into bin/ (skipped when present).
	@hack/tools/build.sh >/dev/null

# The version the binaries report (--version, the manager's first log line):
# git describe of the work tree, so that a dev build says what it is.
# `make release` stamps VERSION instead.
BUILD_VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: manager
manager: ## Build the operator binary into bin/manager (version: git describe).
	$(GO) build -ldflags '-X main.version=$(BUILD_VERSION)' -o bin/manager .

.PHONY: kubectl-lperm
kubectl-lperm: ## Build the kubectl plugin (kubectl lperm import|audit) into bin/kubectl-lperm; put bin/ on PATH or go install ./cmd/kubectl-lperm.
	$(GO) build -ldflags '-X main.version=$(BUILD_VERSION)' -o bin/kubectl-lperm ./cmd/kubectl-lperm

IMG ?= lambda-permission-operator:dev

.PHONY: docker-build
docker-build: ## Build the operator's container image IMG (needs a Docker engine).
	docker build --build-arg VERSION='$(BUILD_VERSION)' -t $(IMG) .

# `make image` needs neither a Docker engine nor a base image (hack/image).
# The first of IMAGE_ARCHS goes into IMAGE_TAR; with more, bin/image/oci holds
# an index of them all. Time stamps are SOURCE_DATE_EPOCH (the commit's), so a
# commit's image has one ID.
IMAGE_ARCHS       ?= amd64
IMAGE_TAR         ?= bin/image/lambda-permission-operator.tar
IMAGE_VERSION     ?= $(BUILD_VERSION)
IMAGE_REVISION    ?= $(shell git rev-parse HEAD 2>/dev/null)
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
CA_CERTS          ?= /etc/ssl/certs/ca-certificates.crt

.PHONY: image
image: ca-certs ## Build the image IMG without a Docker engine into IMAGE_TAR (docker load, ctr images import, crane push); IMAGE_ARCHS="amd64 arm64" adds the index bin/image/oci.
	for arch in $(IMAGE_ARCHS); do \
		CGO_ENABLED=0 GOOS=linux GOARCH=$$arch $(GO) build -trimpath -ldflags='-s -w -X main.version=$(IMAGE_VERSION)' -o bin/manager-linux-$$arch .; \
	done
	$(GO) run ./hack/image -tag '$(IMG)' -version '$(IMAGE_VERSION)' -revision '$(IMAGE_REVISION)' \
		-created '$(SOURCE_DATE_EPOCH)' -ca-certs '$(CA_CERTS)' -out '$(IMAGE_TAR)' \
		$(foreach arch,$(IMAGE_ARCHS),-binary bin/manager-linux-$(arch)) $(if $(word 2,$(IMAGE_ARCHS)),-oci bin/image/oci)

.PHONY: ca-certs
ca-certs: # The CA bundle the image carries (CA_CERTS): Debian's ca-certificates, installed when missing.
	@if [[ ! -s $(CA_CERTS) ]]; then \
		echo "no $(CA_CERTS): installing Debian's ca-certificates" >&2; \
		apt-get install -y --no-install-recommends ca-certificates || \
			{ apt-get update && apt-get install -y --no-install-recommends ca-certificates; }; \
	fi

.PHONY: fmt-check
fmt-check: ## Fail when a Go file is not gofmt-ed.
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './bin/*')); \
	if [ -n "$$out" ]; then echo "not gofmt-ed:"; echo "$$out"; exit 1; fi

# actionlint checks the GitHub Actions workflows, which cannot run here: built
# into bin/ through the Go module proxy (rebuilt when it reports another
# version), and running shellcheck on their scripts only where shellcheck is
# on PATH.
ACTIONLINT_VERSION ?= v1.7.12

.PHONY: lint-workflows
lint-workflows: ## Lint .github/workflows with actionlint (and shellcheck, when installed).
	@if [[ "$$(bin/actionlint -version 2>/dev/null | head -n 1)" != "$(ACTIONLINT_VERSION)" ]]; then \
		echo "building actionlint $(ACTIONLINT_VERSION) into bin/…" >&2; \
		GOBIN="$(CURDIR)/bin" $(GO) install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION); \
	fi
	bin/actionlint -shellcheck="$$(command -v shellcheck || true)" -pyflakes= .github/workflows/*.yml

.PHONY: vet
vet: ## go vet, of the unit build and of the integration build (-tags integration; and gitops and soak, which make gitops and make soak run).
	$(GO) vet ./...
	$(GO) vet -tags 'integration gitops soak' ./...

.PHONY: build
build: ## Build every package.
	$(GO) build ./...

.PHONY: fuzz
fuzz: ## Run each fuzz target for FUZZTIME.
	$(GO) test ./controllers/policy -run '^$$' -fuzz '^FuzzParsePolicy$$' -fuzztime $(FUZZTIME)
	$(GO) test ./controllers/policy -run '^$$' -fuzz '^FuzzParseFunctionName$$' -fuzztime $(FUZZTIME)

.PHONY: emulator
emulator: ## Run the Lambda emulator on EMULATOR_ADDR.
	$(GO) run ./hack/lambda-emulator --addr $(EMULATOR_ADDR) --region $(EMULATOR_REGION) --account-id $(EMULATOR_ACCOUNT_ID)

##@ Releases

# make release VERSION=v0.2.0 [RELEASE_IMAGE=REGISTRY/NAMESPACE/lambda-permission-operator]
# writes into DIST (emptied first), for that tag:
#   lambda-permission-operator-image-$(VERSION).oci.tar  the image for linux/amd64 and linux/arm64 (an OCI layout)
#   lambda-permission-operator-$(CHART_VERSION).tgz      the chart, its image pinned by the index's digest
#   install.yaml                                         config/default for kubectl apply, the image pinned too
#   kubectl-lperm-$(VERSION)-{linux,darwin}-{amd64,arm64}
#   sbom.cdx.json                                        CycloneDX SBOM of the manager (cyclonedx-gomod)
#   SHA256SUMS                                           of every other file (sha256sum -c)
# RELEASE_IMAGE is the image's repository, without tag: where it is going to
# be pushed (the chart and install.yaml name it). See hack/release.
VERSION       ?=
RELEASE_IMAGE ?= lambda-permission-operator
CHART_VERSION  = $(patsubst v%,%,$(VERSION))
DIST          ?= dist
SEMVER_TAG    := ^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$$

.PHONY: release-version
release-version:
	@if [[ ! '$(VERSION)' =~ $(SEMVER_TAG) ]]; then \
		echo "VERSION='$(VERSION)': make release and make release-check need VERSION=vMAJOR.MINOR.PATCH[-PRERELEASE], e.g. VERSION=v0.2.0" >&2; \
		exit 1; \
	fi

.PHONY: release
release: release-version tools ca-certs ## Build release VERSION (required) into dist/: image, chart, install.yaml, kubectl-lperm binaries, SBOM, SHA256SUMS.
	$(GO) run ./hack/release -version '$(VERSION)' -image '$(RELEASE_IMAGE)' -dist '$(DIST)' \
		-revision '$(IMAGE_REVISION)' -created '$(SOURCE_DATE_EPOCH)' -ca-certs '$(CA_CERTS)' \
		-helm bin/helm -kustomize bin/kustomize

.PHONY: release-check
release-check: release-version control-plane tools ## Verify make release VERSION's dist/: checksums, each artifact, helm install and kubectl apply on a local kube-apiserver.
	cd '$(DIST)' && sha256sum --check --strict SHA256SUMS
	RELEASE_DIST='$(abspath $(DIST))' RELEASE_VERSION='$(VERSION)' RELEASE_IMAGE='$(RELEASE_IMAGE)' \
		KUBEBUILDER_ASSETS="$$(hack/control-plane/build.sh)" \
		$(GO) test -tags integration -count=1 -timeout 15m -run '^TestRelease$$' -v ./hack/release

##@ Generated code (committed; CI fails when stale)

CONTROLLER_GEN ?= $(GO) tool controller-gen
CRD_REF_DOCS   ?= $(GO) tool crd-ref-docs

# controller-gen reads only the packages with markers: "./..." would also
# load the Go modules that make gitops checks out under bin/.
.PHONY: manifests
manifests: ## Generate the CRD and RBAC manifests under config/.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./api/...;./controllers/..." output:crd:artifacts:config=config/crd/bases
	$(GO) run ./hack/sync-chart

# The API reference is crd-ref-docs's markdown (hack/crd-ref-docs/config.yaml)
# under a header; it is rendered into bin/ first so that a failed run leaves
# the committed file as it was.
.PHONY: generate
generate: ## Generate DeepCopy methods for the API types and the API reference docs/reference/api.md.
	$(CONTROLLER_GEN) object paths="./api/..."
	@mkdir -p bin docs/reference
	$(CRD_REF_DOCS) --log-level=WARN --config=hack/crd-ref-docs/config.yaml --renderer=markdown \
		--source-path=./api/v1alpha1 --output-path=bin/api-reference.md
	{ echo '<!-- Code generated by `make generate` from api/v1alpha1 (crd-ref-docs, hack/crd-ref-docs/config.yaml). DO NOT EDIT. -->'; \
		echo; cat bin/api-reference.md; } >docs/reference/api.md
