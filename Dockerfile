# syntax=docker/dockerfile:1
#
# Kontor as a container image: one binary (the web client is embedded), one
# data volume. See docs/deployment.md.
#
#   docker build -t kontor .
#   docker run -d --name kontor -p 127.0.0.1:8080:8080 -v kontor-data:/var/lib/kontor kontor
#
# Configuration comes from KONTOR_<SECTION>__<KEY> variables (or a TOML file
# passed with `-c`); the two below point the server at the volume and make it
# reachable from outside the container.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# The cache mounts keep the crate registry and the build directory between
# builds; the binary is copied out of the cached target/ in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p kontor \
    && install -m 0755 target/release/kontor /usr/local/bin/kontor

FROM debian:bookworm-slim
# ca-certificates: TLS to an S3 endpoint. curl: the health check below.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*
# A fixed, unprivileged uid/gid (10001), so a bind-mounted data directory can
# be prepared with `chown 10001:10001`. A new named volume takes its owner
# and mode (0700) from the directory created here.
RUN groupadd --system --gid 10001 kontor \
    && useradd --system --uid 10001 --gid kontor --no-create-home \
       --home-dir /var/lib/kontor --shell /usr/sbin/nologin kontor \
    && install -d -o kontor -g kontor -m 0700 /var/lib/kontor
COPY --from=build /usr/local/bin/kontor /usr/local/bin/kontor

ENV KONTOR_STORAGE__DATA_DIR=/var/lib/kontor \
    KONTOR_SERVER__LISTEN=0.0.0.0:8080
USER kontor
WORKDIR /var/lib/kontor
VOLUME /var/lib/kontor
EXPOSE 8080
# SIGTERM: WebSockets are closed with 1012 (clients reconnect), in-flight
# requests get server.shutdown_grace_seconds (10), then the last write batch
# is finished. Give the container about 30 s to stop (compose:
# stop_grace_period, docker stop: --time 30).
STOPSIGNAL SIGTERM
# /readyz: 200 when the database and the file store answer, else 503.
# The port must match KONTOR_SERVER__LISTEN.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD curl -fsS -o /dev/null http://127.0.0.1:8080/readyz || exit 1

ENTRYPOINT ["kontor"]
CMD ["serve"]
