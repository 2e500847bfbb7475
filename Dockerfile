# Build: a static binary, the same flags as `make build`.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY main.go metrics.go ./
COPY api/ api/
COPY controllers/ controllers/
COPY pkg/ pkg/
ARG TARGETOS=linux
ARG TARGETARCH=amd64
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath -ldflags "-s -w" -o /out/imply-operator .

# Run: distroless static, non-root.
FROM gcr.io/distroless/static:nonroot
COPY --from=build /out/imply-operator /imply-operator
USER 65532:65532
ENTRYPOINT ["/imply-operator"]
