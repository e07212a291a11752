# PostgreSQL 15 with pg_auto_failover from Debian 12's packages, for
# compose.ha.yaml: one image for the monitor and for both nodes, which run
# `pg_autoctl` as the postgres user. The build context is deploy/.
#
#   podman build --format docker -t bankd-pg-auto-failover -f deploy/pg_auto_failover.Dockerfile deploy

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-15 postgresql-15-auto-failover \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data \
    XDG_CONFIG_HOME=/var/lib/postgresql/data/.xdg-config \
    XDG_DATA_HOME=/var/lib/postgresql/data/.xdg-data
COPY pg-auto-failover-node.sh /usr/local/bin/pg-auto-failover-node
RUN mkdir -p "$PGDATA" /var/run/postgresql \
 && chown -R postgres:postgres "$PGDATA" /var/run/postgresql
USER postgres
VOLUME /var/lib/postgresql/data
EXPOSE 5432
HEALTHCHECK --interval=2s --timeout=3s --retries=30 CMD ["pg_isready", "-h", "127.0.0.1", "-p", "5432"]
ENTRYPOINT ["pg-auto-failover-node"]
