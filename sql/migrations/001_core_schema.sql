-- Users, accounts and the transfer ledger.
--
-- Money is bigint minor units (cents). Money enters the system only by a
-- transfer out of a per-currency funding account, the one kind of account
-- allowed to go negative; so for every currency the balances sum to exactly 0
-- and each balance equals its ledger credits minus its ledger debits.

CREATE TABLE users (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL CONSTRAINT users_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
    email       text NOT NULL CONSTRAINT users_email_format
                    CHECK (char_length(email) BETWEEN 3 AND 254 AND email LIKE '%_@_%'),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Emails are unique regardless of case; lookups use lower(email) too.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

-- Owner of the funding accounts, with the fixed id 0 (identity values start
-- at 1). Operator actions are recorded as initiated by this user.
INSERT INTO users (id, name, email) OVERRIDING SYSTEM VALUE
VALUES (0, 'bankd funding', 'funding@bankd.invalid');

CREATE TABLE accounts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id),
    currency    text NOT NULL CONSTRAINT accounts_currency_iso4217 CHECK (currency ~ '^[A-Z]{3}$'),
    kind        text NOT NULL DEFAULT 'customer'
                    CONSTRAINT accounts_kind_known CHECK (kind IN ('customer', 'funding')),
    balance     bigint NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT accounts_balance_non_negative CHECK (kind = 'funding' OR balance >= 0),
    -- Target of the ledger's (account, currency) foreign keys: a transfer can
    -- only name accounts of its own currency.
    CONSTRAINT accounts_id_currency_key UNIQUE (id, currency)
) WITH (fillfactor = 90);  -- room for HOT updates of balance, which no index covers

CREATE INDEX accounts_user_id_idx ON accounts (user_id);
CREATE UNIQUE INDEX accounts_one_funding_per_currency ON accounts (currency) WHERE kind = 'funding';

CREATE TABLE transfers (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    from_account_id  bigint NOT NULL,
    to_account_id    bigint NOT NULL,
    currency         text NOT NULL,
    amount           bigint NOT NULL CONSTRAINT transfers_amount_positive CHECK (amount > 0),
    initiated_by     bigint NOT NULL REFERENCES users (id),
    idempotency_key  text NOT NULL
                         CONSTRAINT transfers_idempotency_key_length
                         CHECK (char_length(idempotency_key) BETWEEN 1 AND 255),
    reference        text CONSTRAINT transfers_reference_length CHECK (char_length(reference) <= 140),
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT transfers_distinct_accounts CHECK (from_account_id <> to_account_id),
    CONSTRAINT transfers_from_account_fkey
        FOREIGN KEY (from_account_id, currency) REFERENCES accounts (id, currency),
    CONSTRAINT transfers_to_account_fkey
        FOREIGN KEY (to_account_id, currency) REFERENCES accounts (id, currency),
    CONSTRAINT transfers_idempotency_key_unique UNIQUE (initiated_by, idempotency_key)
);

-- An account's history, newest first, in either direction (keyset pagination on id).
CREATE INDEX transfers_from_history_idx ON transfers (from_account_id, id DESC);
CREATE INDEX transfers_to_history_idx ON transfers (to_account_id, id DESC);
