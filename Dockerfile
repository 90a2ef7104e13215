# syntax=docker/dockerfile:1
# The operator's container image: the release binary, built here, in a
# distroless base that holds only glibc, CA certificates and a non-root user.
#
#   docker build -t quay-config-operator:0.1.0 .
#
# The binary links glibc dynamically (TLS is rustls: no OpenSSL), so the
# runtime base is distroless "cc" on the same Debian release as the builder.

ARG RUST_VERSION=1.95

FROM docker.io/library/rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
# The caches keep downloaded crates and compiled dependencies between builds.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked --bin quay-config-operator \
    && install -D -m 0755 target/release/quay-config-operator /out/quay-config-operator

FROM gcr.io/distroless/cc-debian12:nonroot
LABEL org.opencontainers.image.title="quay-config-operator" \
      org.opencontainers.image.description="Keeps a Red Hat Quay registry's configuration in line with Kubernetes custom resources" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /out/quay-config-operator /usr/local/bin/quay-config-operator
# The distroless "nonroot" user; the chart also sets runAsUser 65532.
USER 65532:65532
# /healthz, /readyz and /metrics.
EXPOSE 8081
ENTRYPOINT ["/usr/local/bin/quay-config-operator"]
CMD ["run"]
