// Module release builds the operator's release artifacts (static binaries and a multi-platform
// OCI image layout) without a container engine. It is separate so go-containerregistry stays out
// of the operator's go.mod.
module github.com/imply-operator/imply-operator/hack/tools/release

go 1.26.8

require (
	github.com/google/go-containerregistry v0.22.1
	github.com/onsi/gomega v1.44.0
)

require (
	github.com/google/go-cmp v0.7.0 // indirect
	github.com/klauspost/compress v1.19.2 // indirect
	github.com/opencontainers/go-digest v1.0.0 // indirect
	github.com/opencontainers/image-spec v1.1.1 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/net v0.56.0 // indirect
	golang.org/x/sync v0.22.0 // indirect
	golang.org/x/text v0.38.0 // indirect
)
