# Builds rein from source inside a Rust image, for those who can pull one:
#
#     docker build -f Dockerfile.builder -t rein .
#
# The result is the same artifact as the default Dockerfile: an image holding only /rein. Kept in
# its own file because the classic builder builds every stage of a Dockerfile (see Dockerfile).
FROM rust:1-alpine AS builder
# Alpine's Rust targets musl natively; crt-static makes the binary independent of the libc in
# the application image it is copied into (Debian, distroless, scratch ...).
RUN apk add --no-cache musl-dev
ENV RUSTFLAGS="-C target-feature=+crt-static"
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
RUN cargo build --release --locked \
    && ! readelf -l target/release/rein | grep -q INTERP

FROM scratch
COPY --from=builder /src/target/release/rein /rein
ENTRYPOINT ["/rein"]
