# The suite's image: all four services and cectl, built in release mode on
# Debian and copied onto Debian slim with libpq. Build from the repository
# root: docker build -t ce-suite .
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# protox compiles the protos; no protoc is needed. SQLite is bundled.
RUN cargo build --release --locked -p registry -p crediting -p supervision -p quality -p cectl \
 && mkdir /out \
 && cp target/release/registry target/release/crediting target/release/supervision \
       target/release/quality target/release/cectl /out/

# The services link libpq dynamically (diesel's PostgreSQL backend), and
# libpq brings OpenSSL, Kerberos and LDAP libraries with it. distroless/cc
# has none of them, so a binary there would not even start. Debian's slim
# image of the same release as the build stage, with libpq5 from its
# archive, is the smallest base that runs them. It runs as an unprivileged
# user.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/ /usr/local/bin/
COPY libs/rules/rulesets/provinces /etc/ce/rules-examples
USER 10001:10001
# Each service is chosen by the command, for example:
#   docker run ce-suite /usr/local/bin/registry --config /etc/ce/config/registry.toml
ENTRYPOINT []
CMD ["/usr/local/bin/registry"]
