# Build: on the build machine's platform, cross-compiling a static binary for the target platform
# (docker buildx build --platform linux/amd64,linux/arm64 runs no emulated compiler), with the
# same flags as `make build`. `make release-artifacts` builds the same image without an engine.
FROM --platform=$BUILDPLATFORM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY main.go gc.go metrics.go probe.go restconfig.go ./
COPY api/ api/
COPY controllers/ controllers/
COPY internal/ internal/
COPY pkg/ pkg/
ARG TARGETOS=linux
ARG TARGETARCH=amd64
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath -ldflags "-s -w -X github.com/imply-operator/imply-operator/pkg/version.version=${VERSION} -X github.com/imply-operator/imply-operator/pkg/version.commit=${COMMIT}" -o /out/imply-operator .

# Run: distroless static, non-root.
FROM gcr.io/distroless/static:nonroot
COPY --from=build /out/imply-operator /imply-operator
USER 65532:65532
ENTRYPOINT ["/imply-operator"]
