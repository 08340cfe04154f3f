# The suite's image: all four services and cectl, built in release mode on
# Debian and copied onto a small distroless base. Build from the repository
# root: docker build -t ce-suite .
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# protox compiles the protos; no protoc is needed. SQLite is bundled.
RUN cargo build --release --locked -p registry -p crediting -p supervision -p quality -p cectl \
 && mkdir /out \
 && cp target/release/registry target/release/crediting target/release/supervision \
       target/release/quality target/release/cectl /out/

# glibc, CA certificates and nothing else; runs as an unprivileged user.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/ /usr/local/bin/
COPY libs/rules/rulesets/provinces /etc/ce/rules-examples
USER 10001:10001
# Each service is chosen by the command, for example:
#   docker run ce-suite /usr/local/bin/registry --config /etc/ce/config/registry.toml
ENTRYPOINT []
CMD ["/usr/local/bin/registry"]
