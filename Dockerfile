# The operator's image: `make docker-build IMG=...` (docker build -t IMG .).
# Build the manager binary.
FROM golang:1.26 AS builder
ARG TARGETOS
ARG TARGETARCH

WORKDIR /workspace
# Download the modules first, so that this layer is cached until go.mod or
# go.sum change.
COPY go.mod go.sum ./
RUN go mod download

# The sources (.dockerignore leaves out tests' data, charts, docs, bin/…).
COPY . .

# A static binary (no cgo) for the distroless image. TARGETOS/TARGETARCH are
# set by `docker buildx build --platform`; empty, Go builds for the builder's.
# VERSION is what --version prints (make docker-build passes git describe).
ARG VERSION=dev
RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
	go build -trimpath -ldflags="-s -X main.version=${VERSION}" -o manager .

# The manager alone on distroless: no shell, no package manager, uid 65532.
FROM gcr.io/distroless/static:nonroot
WORKDIR /
COPY --from=builder /workspace/manager .
USER 65532:65532

ENTRYPOINT ["/manager"]
