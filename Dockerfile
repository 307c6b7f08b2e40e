# exporter_exporter's container image: the release binary, the C libraries it links and the CA
# bundle from Debian 12's packages, an example configuration, and nothing else (no shell, no
# package manager), run as the non-root user 65532. About 14 MB (amd64), 12 MB (arm64).
#
# This file does not compile anything and pulls nothing: packaging/build-image.sh builds the
# binary (natively, or cross-built for arm64), stages the image's file system in a directory of
# its own, and builds this file with that directory as the context:
#
#   packaging/build-image.sh                                    # linux/amd64, exporter_exporter:VERSION-amd64
#   packaging/build-image.sh --target aarch64-unknown-linux-gnu # linux/arm64, exporter_exporter:VERSION-arm64
#
# What it holds, and why this way, is in packaging/build-image.sh and docs/install/container.md.
# Run it:
#
#   docker run -d --name exporter_exporter -p 9999:9999 \
#     -v /etc/exporter_exporter.yaml:/etc/exporter_exporter.yaml:ro exporter_exporter:VERSION-amd64
#
# Arguments after the image name are added after the default configuration file; a repeated
# flag takes its last value, as in Go, so a -config.file among them replaces it.

FROM scratch
COPY rootfs/ /
USER 65532:65532
EXPOSE 9999
ENTRYPOINT ["/usr/bin/exporter_exporter", "-config.file=/etc/exporter_exporter.yaml"]

ARG VERSION=unknown
ARG REVISION=unknown
ARG CREATED
LABEL org.opencontainers.image.title="exporter_exporter" \
      org.opencontainers.image.description="Reverse proxy for Prometheus exporters, scripts, textfiles and containers, verifying what it serves" \
      org.opencontainers.image.version="$VERSION" \
      org.opencontainers.image.revision="$REVISION" \
      org.opencontainers.image.created="$CREATED" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/exporter-exporter/exporter_exporter-rs"
