-- Several named API keys per user, and freezing.
--
-- A key is stored only as its SHA-256. Revoking a key marks it; deleting a
-- user revokes all of its keys. The one key a user had before (users.
-- api_key_sha256) becomes its key named "default"; the old column is emptied
-- and no longer read (live_users, a SELECT * view, still lists it).
--
-- Freezing uses users.frozen_at and accounts.frozen_at, made by migration
-- 004: an operator froze the user or the account; a frozen account, or any
-- account of a frozen user, cannot send money (bank_apply_batch refuses it
-- with account_frozen) but can still receive.

CREATE TABLE api_keys (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES users (id),
    name          text NOT NULL CONSTRAINT api_keys_name_length CHECK (char_length(name) BETWEEN 1 AND 100),
    key_sha256    text NOT NULL CONSTRAINT api_keys_sha256_hex CHECK (key_sha256 ~ '^[0-9a-f]{64}$'),
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);

CREATE UNIQUE INDEX api_keys_sha256_key ON api_keys (key_sha256);
CREATE INDEX api_keys_user_idx ON api_keys (user_id, id);

INSERT INTO api_keys (user_id, name, key_sha256, created_at)
SELECT id, 'default', api_key_sha256, created_at FROM users WHERE api_key_sha256 IS NOT NULL;
UPDATE users SET api_key_sha256 = NULL WHERE api_key_sha256 IS NOT NULL;

-- live_users is SELECT *, expanded when it was made (003), before 004 added
-- users.frozen_at: list it too.
CREATE OR REPLACE VIEW live_users AS
    SELECT * FROM users WHERE id <> 0 AND deleted_at IS NULL;
