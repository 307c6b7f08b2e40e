# exporter_exporter in a container: built with the repository's Cargo.lock, run as a non-root
# user on a distroless base (glibc, libgcc, CA certificates; no shell).
#
#   docker build --build-arg EXPEXP_GIT_REVISION=$(git rev-parse --short=12 HEAD) -t exporter_exporter .
#   docker run -d --name exporter_exporter --network host \
#     -v /etc/exporter_exporter.yaml:/etc/exporter_exporter.yaml:ro exporter_exporter
#
# Arguments are added after the default configuration file; a repeated flag takes the last
# value, as in Go, so `-config.file=...` among them replaces it:
#   docker run ... exporter_exporter -log.level=info
# With --network host the proxy reaches the host's exporters on localhost and listens on the
# host's port 9999; without it, give modules addresses the container can reach and publish
# the port (-p 9999:9999). exec modules need their commands inside the image: this one has no
# shell, so use a file module on a mounted textfile, or build FROM debian:bookworm-slim.

FROM rust:1-bookworm AS build
ARG EXPEXP_GIT_REVISION=unknown
WORKDIR /src
COPY . .
RUN EXPEXP_GIT_REVISION="$EXPEXP_GIT_REVISION" cargo build --release --locked --bin exporter_exporter \
 && install -D -m0755 target/release/exporter_exporter /out/exporter_exporter \
 && strip --strip-unneeded /out/exporter_exporter

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/exporter_exporter /usr/bin/exporter_exporter
COPY packaging/exporter_exporter.yaml /etc/exporter_exporter.yaml
USER 65532:65532
EXPOSE 9999
ENTRYPOINT ["/usr/bin/exporter_exporter", "-config.file=/etc/exporter_exporter.yaml"]
