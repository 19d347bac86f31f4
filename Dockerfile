# The gateway's image: a static binary on distroless, as a non-root user,
# with operational artifacts (logs, caches, debug dumps) on a volume.
#
# Base images are pinned by digest, with the tag beside it for readers: the
# tag says what the image is, the digest decides which one is built on.
# scripts/pin-base-images.sh resolves the tags again and rewrites the
# digests (docs/operations.md, "Updating the base images").
# The build stage's Go minor version must be go.mod's (checked by
# e2e/container_test.go).

# Build
FROM golang:1.26.5@sha256:3aff6657219a4d9c14e27fb1d8976c49c29fddb70ba835014f477e1c70636647 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=0.1.0
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X github.com/diminuendo/diminuendo/app/root.Version=${VERSION}" \
        -o /out/diminuendo ./cmd/diminuendo \
    && mkdir -p /out/data/diminuendo

# Run
FROM gcr.io/distroless/static-debian12:nonroot@sha256:d093aa3e30dbadd3efe1310db061a14da60299baff8450a17fe0ccc514a16639
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="diminuendo" \
      org.opencontainers.image.description="WebSocket and REST gateway between clients and AI agents" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="https://github.com/diminuendo/diminuendo" \
      org.opencontainers.image.base.name="gcr.io/distroless/static-debian12:nonroot"
COPY --from=build /out/diminuendo /diminuendo
# The volume's mount point, owned by the runtime user (distroless nonroot,
# 65532), so a fresh volume is writable; nothing else in the image is.
COPY --from=build --chown=65532:65532 /out/data /data
ENV PORT=8080 DATA_DIR=/data/diminuendo MEMORY_LIMIT=2GiB
VOLUME ["/data/diminuendo"]
EXPOSE 8080
USER 65532:65532
# No shell in distroless: the binary checks its own /livez.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 CMD ["/diminuendo", "healthcheck"]
ENTRYPOINT ["/diminuendo"]
