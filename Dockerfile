# syntax=docker/dockerfile:1
#
# One image with the four Vexil services and the `vexil` command (`vexil flags stale` from a
# shell in a pod, or `vexil up`). Compose and Kubernetes pick the service with `command`
# (`vexil-config-api`, `vexil-stream-gateway`, `vexil-event-ingest`,
# `vexil-analytics-worker`); the image has no entrypoint of its own.
#
#   docker build -t vexil:dev .
#
# The build needs no database (SQL is checked against the committed `.sqlx/` data:
# `.cargo/config.toml` sets SQLX_OFFLINE=true), no `protoc` (protox compiles `proto/`) and
# no network beyond crates.io. Migrations are compiled into the binaries (`sqlx::migrate!`).
# Dependencies are cached between builds by BuildKit cache mounts (the cargo registry and
# the target directory), so a change to Vexil's code rebuilds only Vexil's crates.

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

FROM rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS builder
# librdkafka is built from its bundled source by rdkafka-sys (the `libz` feature, no
# cmake): a C toolchain, make, perl, pkg-config and zlib's headers. The rust image has
# most of them already; naming them keeps the build honest if its base changes.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        build-essential make perl pkg-config zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --locked --release \
        -p vexil-config-api -p vexil-stream-gateway -p vexil-event-ingest -p vexil-analytics-worker \
        -p vexil-cli --bins \
    && mkdir -p /out \
    && cp target/release/vexil-config-api target/release/vexil-stream-gateway \
        target/release/vexil-event-ingest target/release/vexil-analytics-worker \
        target/release/vexil /out/

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# ca-certificates for https:// endpoints (OTLP collectors, gRPC over TLS); curl only for the
# compose health checks (Kubernetes probes are HTTP and need no tool). zlib, the one shared
# library the binaries link besides glibc and libgcc, is part of every Debian system.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 vexil \
    && useradd --system --uid 10001 --gid vexil --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin vexil
COPY --from=builder /out/ /usr/local/bin/
# No configuration file is baked in: settings come from VEXIL_* variables or a vexil.toml
# mounted and named by VEXIL_CONFIG (docs/configuration.md). The binaries write nothing
# to disk, so the root file system can be read-only.
WORKDIR /
USER 10001:10001
# config-api, its gRPC, stream-gateway, event-ingest, analytics-worker HTTP and gRPC.
EXPOSE 8030 8031 8040 8050 8060 8061
