# bankd container image: a Release build on Debian 12, shipped on a slim
# Debian 12 with only the shared libraries it links.
#
#   podman build -t bankd .         (or: docker build -t bankd .)
#   podman run -e DATABASE_URL=postgresql://... -e BANKD_OPERATOR_KEY=... -p 8080:8080 bankd
#
# Configuration is environment only (see README.md). The image runs
# `bankd serve`; `bankd migrate` as a one-shot command, or BANKD_MIGRATE=1 on
# serve, applies migrations (advisory-locked, so replicas may start together).

FROM debian:bookworm-slim AS build
# nodejs and npm (Node 18) run the Redocly CLI, which makes openapi.json and
# the API reference page (docs.html) during the build; neither is shipped.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      g++ cmake ninja-build pkg-config libboost1.81-dev libboost-program-options1.81-dev \
      libpq-dev libssl-dev nlohmann-json3-dev prometheus-cpp-dev nodejs npm \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The npm tools come along when the build context has them installed
# (scripts/test.sh and run.sh install them), else npm ci fetches them here.
COPY tools/npm tools/npm
COPY scripts/npm-tools.sh scripts/setup-deps.sh scripts/
RUN scripts/npm-tools.sh --build
COPY docs/openapi.yaml docs/redocly.yaml docs/
COPY CMakeLists.txt CMakePresets.json ./
COPY cmake cmake
COPY service service
COPY sql sql
COPY loadtest loadtest
RUN cmake --preset release -DBANKD_BUILD_TESTS=OFF -DBANKD_BUILD_BENCH=OFF -DBANKD_WERROR=OFF \
 && cmake --build --preset release --target bankd bank-loadtest \
 && cmake --install build/release --prefix /opt/bankd --strip

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpq5 libssl3 libboost-program-options1.81.0 libprometheus-cpp-core1.0 \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 bankd \
 && useradd --system --uid 10001 --gid bankd --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin bankd
COPY --from=build /opt/bankd/bin/bankd /opt/bankd/bin/bank-loadtest /usr/local/bin/
COPY --from=build /opt/bankd/share/bankd /usr/local/share/bankd
USER 10001:10001
ENV PORT=8080 \
    BANKD_MIGRATIONS_DIR=/usr/local/share/bankd/migrations
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["bankd", "healthcheck"]
# Exec form: bankd is PID 1 and receives SIGTERM itself, for a graceful drain.
ENTRYPOINT ["bankd"]
CMD ["serve"]
