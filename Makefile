# vipd — build, test, demo, benchmarks. Integration targets need root (network namespaces).
GO      ?= go
BIN     ?= bin/vipd
PKGS    := ./vrrp/... ./providers/... ./lvs/... ./checks/... ./configs/... ./cmd/...
export GOFLAGS ?= -mod=readonly
# The pinned linter (.golangci.yml), called by path; `make lint-tool` installs it.
GOLANGCI_LINT_VERSION := 2.15.0
GOLANGCI_LINT ?= $(shell $(GO) env GOPATH)/bin/golangci-lint

.PHONY: all build build-onprem vet lint-tool unit integration vm-test test demo bench bench-go bench-idle bench-failover reliability reliability-short clean fuzz fuzz-smoke

all: build

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

# A static binary (no cgo), stripped, with its version.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -tags "$(TAGS)" -ldflags "-s -w -X github.com/vipd/vipd/cmd/vipd/internal/agent.Version=$(VERSION)" -o $(BIN) ./cmd/vipd

# The same without the cloud SDKs (aws, aliyun, tencent): a lean on-prem
# binary; an instance configured with a cloud provider fails to start with
# "built without aws" etc. One cloud at a time: TAGS=novipd_aliyun,novipd_tencent make build.
build-onprem:
	$(MAKE) build BIN=$(BIN)-onprem TAGS=onprem

vet:
	$(GO) vet ./...
	@bad=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$bad" ]; then echo "gofmt needed: $$bad"; exit 1; fi
	$(GOLANGCI_LINT) run ./...

# Installs golangci-lint $(GOLANGCI_LINT_VERSION) as $(GOLANGCI_LINT) unless that version is there
# (from the Go module proxy; .ci/run calls it on fresh machines).
lint-tool:
	@if [ "$$($(GOLANGCI_LINT) version --short 2>/dev/null)" != "$(GOLANGCI_LINT_VERSION)" ]; then \
		echo "installing golangci-lint v$(GOLANGCI_LINT_VERSION)"; \
		GOFLAGS= GOBIN="$(abspath $(dir $(GOLANGCI_LINT)))" $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v$(GOLANGCI_LINT_VERSION); \
	fi

# Unit tests (race detector on). Packages that need root skip their netns parts without it.
unit:
	$(GO) test -race -count=1 $(PKGS)

# Integration tests: vipd and keepalived nodes in network namespaces (root).
integration:
	$(GO) test -count=1 -timeout 40m ./test/...

# Real-kernel IPVS tests inside a small qemu VM (the machine's kernel has no IP_VS).
vm-test:
	bash test/vm/run-lvs-tests.sh || [ $$? -eq 77 ]
	bash test/vm/run-director-tests.sh || [ $$? -eq 77 ]

# The one command that runs every test.
test: vet unit integration vm-test

# Live demo: two vipd nodes and a client in namespaces; the VIP fails over and back.
demo:
	$(GO) run ./test/cmd/demo

# Failover gap benchmark, vipd vs keepalived on the same bed (root).
bench-failover:
	$(GO) run ./test/cmd/benchfailover

# Benchmarks: idle cost of vipd beside keepalived (root), then the Go benchmarks.
bench: bench-idle bench-go

# Idle cost, vipd vs keepalived in the same run on the netns bed (root):
# wake-ups/s, CPU %, RSS / private / anonymous / file-backed memory of
# master and backup at 10 and 250 instances, and the ratios.
bench-idle:
	$(GO) run ./test/cmd/benchidle

# Reliability suite (issue 15; root): packet loss (netem, in the kernel VM), flapping, cloud
# outages, soak, hostile network — vipd beside keepalived where it applies. Prints a Markdown
# table of figures and writes it to $(RELIAB_OUT). The full form takes about 1 h 20 min; the
# short form (CI) about 6 min.
RELIAB_OUT ?= reliability-report.md
reliability:
	$(GO) run ./test/cmd/reliability -out $(RELIAB_OUT)

reliability-short:
	$(GO) run ./test/cmd/reliability -short -out $(RELIAB_OUT)

# Go benchmarks (providers, checks, lvs reconciler).
bench-go:
	$(GO) test -run '^$$' -bench . -benchtime 1x ./providers/... ./checks/... ./lvs/...

# Fuzz targets, package:Target, run one after the other (go test fuzzes one
# target at a time). New crashers land in the package's testdata/fuzz and
# then run as seeds in every `go test`.
FUZZ_TARGETS := \
	./vrrp:FuzzUnmarshal ./vrrp:FuzzMarshal ./vrrp/bfd:FuzzParse ./vrrp/bfd:FuzzMuxDeliver \
	./configs:FuzzParseKeepalived \
	./cmd/vipd/internal/plan:FuzzLoad \
	./cmd/vipd/internal/agent:FuzzClient \
	./checks:FuzzHTTPResponse ./checks:FuzzDNSAnswer
FUZZTIME ?= 10m
FUZZPARALLEL ?= 1

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "== fuzz $${t##*:} ($${t%%:*}) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$${t##*:}\$$" -fuzztime $(FUZZTIME) -parallel $(FUZZPARALLEL) $${t%%:*}; \
	done

# The CI form: 20 s per target.
fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=20s

clean:
	rm -rf bin
