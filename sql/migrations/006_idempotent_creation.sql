-- Idempotency-Key for POST /users and POST /accounts: the key, what was asked
-- (as the SHA-256 of the request's fields) and what it made, written in the
-- same transaction that makes it. Scoped by caller and by operation, so a key
-- used to create a user says nothing about accounts or transfers.

CREATE TABLE creation_requests (
    initiated_by     bigint NOT NULL REFERENCES users (id),
    operation        text NOT NULL
                         CONSTRAINT creation_requests_operation_known
                         CHECK (operation IN ('users.create', 'accounts.open')),
    idempotency_key  text NOT NULL
                         CONSTRAINT creation_requests_key_length
                         CHECK (char_length(idempotency_key) BETWEEN 1 AND 255),
    request_sha256   text NOT NULL CONSTRAINT creation_requests_sha256_hex CHECK (request_sha256 ~ '^[0-9a-f]{64}$'),
    resource_id      bigint NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT creation_requests_pkey PRIMARY KEY (initiated_by, operation, idempotency_key)
);
