-- The event feed (GET /events): one row per state change that matters,
-- written by triggers in the transaction of the change itself, so that an
-- event exists exactly when its change committed.
--
-- Commit order. An id taken from a sequence at insert time is not commit
-- order: a transaction that took id 10 may commit after one that took 11,
-- and a reader that had already moved its cursor past 11 would never see
-- 10. Here every transaction that writes events first takes one
-- transaction-level advisory lock (events_order_lock), held until it ends,
-- and only then takes its ids. PostgreSQL makes a transaction visible before
-- it releases its locks, so the next writer takes larger ids only after the
-- previous one is visible: ids are handed out in commit order, and a reader
-- that sees id n committed sees every id below n that ever commits.
--
-- The cost: transactions that write events run their last part (from the
-- event insert to COMMIT) one at a time. The engine's batches commit without
-- waiting for the disk under their own lock, so the ordering lock is held
-- for microseconds there; other writers (a new account, a closed one) hold
-- it through their commit's flush.

CREATE FUNCTION events_order_lock() RETURNS void
    LANGUAGE sql VOLATILE
    -- A constant of its own; the engine's session lock is 7089068695995725944.
    RETURN pg_advisory_xact_lock(7089068695995725945);

CREATE TABLE events (
    id           bigint PRIMARY KEY,
    type         text NOT NULL CONSTRAINT events_type_known CHECK (type IN (
                     'transfer.created', 'deposit.created', 'transfer.pending', 'transfer.posted',
                     'transfer.voided', 'transfer.expired', 'transfer.reversed',
                     'account.created', 'account.closed', 'user.created', 'user.deleted')),
    -- The users whose accounts (or selves) the event is about: a user's
    -- feed shows these; the operator's shows all.
    user_ids     bigint[] NOT NULL,
    occurred_at  timestamptz NOT NULL DEFAULT now(),
    data         jsonb NOT NULL
);

CREATE SEQUENCE events_id_seq AS bigint OWNED BY events.id;

-- Ledger rows: one statement-level trigger per INSERT, so that a batch of
-- the engine takes the ordering lock and its ids once.
CREATE FUNCTION events_of_transfers() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM events_order_lock();
    INSERT INTO events (id, type, user_ids, occurred_at, data)
    SELECT nextval('events_id_seq'),
           CASE t.kind WHEN 'transfer' THEN 'transfer.created' WHEN 'deposit' THEN 'deposit.created'
                       WHEN 'pending' THEN 'transfer.pending' WHEN 'post' THEN 'transfer.posted'
                       WHEN 'void' THEN 'transfer.voided' WHEN 'expire' THEN 'transfer.expired'
                       WHEN 'reverse' THEN 'transfer.reversed' END,
           ARRAY[fa.user_id, ta.user_id], t.created_at,
           jsonb_build_object('transfer', jsonb_build_object(
               'id', t.id, 'kind', t.kind, 'from_account_id', t.from_account_id,
               'to_account_id', t.to_account_id, 'currency', t.currency, 'amount', t.amount,
               'reference', t.reference, 'metadata', t.metadata, 'pending_id', t.pending_id,
               'reverses_transfer_id', t.reverses_transfer_id, 'expires_at', rfc3339(t.expires_at),
               'created_at', rfc3339(t.created_at)))
      FROM (SELECT * FROM new_rows ORDER BY id) t
      JOIN accounts fa ON fa.id = t.from_account_id
      JOIN accounts ta ON ta.id = t.to_account_id;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER transfers_events
    AFTER INSERT ON transfers REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION events_of_transfers();

-- Accounts and users change one row at a time.
CREATE FUNCTION events_of_accounts() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM events_order_lock();
    INSERT INTO events (id, type, user_ids, data)
    VALUES (nextval('events_id_seq'),
            CASE WHEN TG_OP = 'INSERT' THEN 'account.created' ELSE 'account.closed' END,
            ARRAY[NEW.user_id],
            jsonb_build_object('account', jsonb_build_object(
                'id', NEW.id, 'user_id', NEW.user_id, 'currency', NEW.currency, 'kind', NEW.kind,
                'created_at', rfc3339(NEW.created_at), 'closed_at', rfc3339(NEW.closed_at))));
    RETURN NULL;
END
$fn$;

CREATE TRIGGER accounts_created_event AFTER INSERT ON accounts
    FOR EACH ROW EXECUTE FUNCTION events_of_accounts();
CREATE TRIGGER accounts_closed_event AFTER UPDATE OF closed_at ON accounts
    FOR EACH ROW WHEN (OLD.closed_at IS NULL AND NEW.closed_at IS NOT NULL)
    EXECUTE FUNCTION events_of_accounts();

CREATE FUNCTION events_of_users() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM events_order_lock();
    INSERT INTO events (id, type, user_ids, data)
    VALUES (nextval('events_id_seq'),
            CASE WHEN TG_OP = 'INSERT' THEN 'user.created' ELSE 'user.deleted' END,
            ARRAY[NEW.id],
            jsonb_build_object('user', jsonb_build_object(
                'id', NEW.id, 'name', NEW.name, 'created_at', rfc3339(NEW.created_at),
                'deleted_at', rfc3339(NEW.deleted_at))));
    RETURN NULL;
END
$fn$;

CREATE TRIGGER users_created_event AFTER INSERT ON users
    FOR EACH ROW EXECUTE FUNCTION events_of_users();
CREATE TRIGGER users_deleted_event AFTER UPDATE OF deleted_at ON users
    FOR EACH ROW WHEN (OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL)
    EXECUTE FUNCTION events_of_users();

-- Like the ledger, the feed is append-only for everyone, with migration
-- 007's trigger function.
CREATE TRIGGER events_append_only
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION refuse_ledger_change();
CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_ledger_change();
