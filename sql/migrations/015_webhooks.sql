-- Webhook endpoints (POST /webhooks) and where delivery to each has got to.
--
-- Delivery reads the event feed (migration 014) in id order, which is
-- commit order, so one cursor per endpoint is all the state it needs:
-- delivered_through is the id of the last event handled for the endpoint
-- (acknowledged by it, or not one it subscribes to). Only the one bankd
-- that holds the delivery lock moves it, and only forwards.
--
-- The secret has to be kept as it is: bankd signs each delivery with it
-- (HMAC), so unlike API keys it cannot be stored as a digest.

CREATE TABLE webhook_endpoints (
    id                         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url                        text NOT NULL
                               CONSTRAINT webhook_url_length CHECK (length(url) BETWEEN 1 AND 2048),
    -- '*' alone: every type.
    event_types                text[] NOT NULL CONSTRAINT webhook_event_types CHECK (
                                   cardinality(event_types) BETWEEN 1 AND 16
                                   AND event_types <@ ARRAY['*',
                                       'transfer.created', 'deposit.created', 'transfer.pending',
                                       'transfer.posted', 'transfer.voided', 'transfer.expired',
                                       'transfer.reversed', 'account.created', 'account.closed',
                                       'user.created', 'user.deleted']
                                   AND ('*' <> ALL (event_types) OR cardinality(event_types) = 1)),
    description                text NOT NULL DEFAULT ''
                               CONSTRAINT webhook_description_length CHECK (length(description) <= 200),
    secret                     text NOT NULL
                               CONSTRAINT webhook_secret_format CHECK (secret ~ '^whsec_[A-Za-z0-9+/]{16,}=*$'),
    -- After a rotation the old secret signs too, until it expires.
    previous_secret            text
                               CONSTRAINT webhook_previous_secret_format
                               CHECK (previous_secret ~ '^whsec_[A-Za-z0-9+/]{16,}=*$'),
    previous_secret_expires_at timestamptz,
    created_at                 timestamptz NOT NULL DEFAULT now(),
    status                     text NOT NULL DEFAULT 'enabled'
                               CONSTRAINT webhook_status_known CHECK (status IN ('enabled', 'disabled')),
    delivered_through          bigint NOT NULL CONSTRAINT webhook_cursor_valid CHECK (delivered_through >= 0),
    consecutive_failures       integer NOT NULL DEFAULT 0
                               CONSTRAINT webhook_failures_valid CHECK (consecutive_failures >= 0),
    failing_since              timestamptz,
    next_attempt_at            timestamptz,
    last_error                 text CONSTRAINT webhook_error_length CHECK (length(last_error) <= 200),
    disabled_at                timestamptz,
    deleted_at                 timestamptz,
    CONSTRAINT webhook_disabled_when CHECK ((status = 'disabled') = (disabled_at IS NOT NULL)),
    CONSTRAINT webhook_previous_secret_expires
        CHECK ((previous_secret IS NULL) = (previous_secret_expires_at IS NULL)),
    CONSTRAINT webhook_failing_when CHECK ((consecutive_failures = 0) = (failing_since IS NULL))
);

CREATE INDEX webhook_endpoints_live ON webhook_endpoints (id) WHERE deleted_at IS NULL;

-- What the API shows of an endpoint (never its secrets), written once for
-- every statement that answers with one: RETURNING (shown_webhook(w)).*
CREATE TYPE webhook_shown AS (
    id bigint, url text, event_types text, description text, status text, created_at text,
    delivered_through bigint, consecutive_failures bigint, failing_since text, next_attempt_at text,
    last_error text, disabled_at text, previous_secret_expires_at text);

CREATE FUNCTION shown_webhook(w webhook_endpoints) RETURNS webhook_shown
    LANGUAGE sql STABLE
    RETURN ROW(w.id, w.url, array_to_string(w.event_types, ','), w.description, w.status,
               rfc3339(w.created_at), w.delivered_through, w.consecutive_failures::bigint,
               rfc3339(w.failing_since), rfc3339(w.next_attempt_at), w.last_error,
               rfc3339(w.disabled_at),
               rfc3339(CASE WHEN w.previous_secret_expires_at > now()
                            THEN w.previous_secret_expires_at END))::webhook_shown;
