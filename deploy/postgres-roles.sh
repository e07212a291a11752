#!/usr/bin/env bash
# The two database roles of bankd, made once when the postgres image
# initialises its volume (compose.yaml mounts this into
# /docker-entrypoint-initdb.d). See docs/security.md, "Least privilege".
#
#   bankd_owner  owns database bankd and its schema; `bankd migrate` logs in as it
#   bankd_app    the group migration 007 grants to: rows only, no DELETE, no
#                UPDATE of the ledger, no DDL (made here so the owner needs no
#                CREATEROLE)
#   bankd_serve  `bankd serve` logs in as it; a member of bankd_app, nothing more
#
# Passwords come from BANKD_OWNER_PASSWORD and BANKD_SERVE_PASSWORD.
set -euo pipefail

psql -v ON_ERROR_STOP=1 -X -q --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v owner_password="${BANKD_OWNER_PASSWORD:?}" -v serve_password="${BANKD_SERVE_PASSWORD:?}" <<'SQL'
CREATE ROLE bankd_owner LOGIN PASSWORD :'owner_password';
ALTER DATABASE bankd OWNER TO bankd_owner;
ALTER SCHEMA public OWNER TO bankd_owner;
CREATE ROLE bankd_app NOLOGIN;
CREATE ROLE bankd_serve LOGIN PASSWORD :'serve_password' IN ROLE bankd_app;
SQL
