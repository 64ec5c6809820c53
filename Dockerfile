# The rein artifact image: nothing but the static binary at /rein, for
#
#     COPY --from=<this image> /rein /rein
#
# in an application's Dockerfile (see examples/docker/Dockerfile).
#
# It is built FROM scratch from the binary that scripts/build-static.sh leaves in target/, so
# building it never pulls anything. Run scripts/docker-image.sh, which does both steps.
#
# Why the compiling stage lives in Dockerfile.builder and not here as a named stage: the classic
# builder (Docker without BuildKit, e.g. engine 20.10 with no buildx) builds every stage of a
# Dockerfile, even with --target, so a `FROM rust:alpine AS builder` stage in this file would make
# the default build pull an image, and fail on machines without a registry. BuildKit would skip
# the unused stage, but this file must work with both.
FROM scratch
COPY target/x86_64-unknown-linux-musl/release/rein /rein
# Lets `docker run <this image> --version` work; `COPY --from=` ignores it.
ENTRYPOINT ["/rein"]
