-- API keys, deleting users and closing accounts.
--
-- Nothing that has ledger history is ever removed: a deleted user and a
-- closed account stay as rows (the ledger's foreign keys point at them) and
-- are only marked. A user is deleted only once all its accounts are empty.

ALTER TABLE users
    ADD COLUMN api_key_sha256 text
        CONSTRAINT users_api_key_sha256_hex CHECK (api_key_sha256 ~ '^[0-9a-f]{64}$'),
    ADD COLUMN deleted_at timestamptz;

CREATE UNIQUE INDEX users_api_key_sha256_key ON users (api_key_sha256);

-- A deleted user's email may be used again.
DROP INDEX users_email_lower_key;
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email)) WHERE deleted_at IS NULL;

ALTER TABLE accounts
    ADD COLUMN closed_at timestamptz,
    ADD CONSTRAINT accounts_closed_when_empty CHECK (closed_at IS NULL OR balance = 0),
    ADD CONSTRAINT accounts_funding_stays_open CHECK (kind = 'customer' OR closed_at IS NULL);

-- Timestamps leave the API as RFC 3339 in UTC, whatever the session's TimeZone.
CREATE FUNCTION rfc3339(ts timestamptz) RETURNS text
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    RETURN to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
