-- Least privilege. Migrations run as the owner of the database's objects;
-- `bankd serve` runs as a login role that is a member of the group role
-- "<database>_app" (bankd_app for a database named bankd), made here unless
-- it exists (making it needs CREATEROLE; otherwise create it beforehand).
-- The group may read and write what the service writes, and nothing else:
-- no DELETE anywhere (nothing with history is ever removed), no UPDATE of
-- the ledger (transfers), no DDL, and schema_migrations read only.
--
-- The ledger is also append-only for everyone, its owner included: a trigger
-- refuses UPDATE, DELETE and TRUNCATE of transfers. bank_apply_batch only
-- inserts ledger rows, so it is untouched; 004's one-time backfill of
-- transfers.kind ran before this trigger existed. (A migration that must
-- rewrite ledger rows drops the trigger and makes it again, in one
-- transaction, and says why.)

DO $$
DECLARE
  app constant text := current_database() || '_app';
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = app) THEN
    BEGIN
      EXECUTE format('CREATE ROLE %I NOLOGIN', app);
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL;  -- made by a migration of another database at the same moment
    END;
  END IF;
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), app);
  EXECUTE format('GRANT USAGE ON SCHEMA public TO %I', app);
  EXECUTE format('GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO %I', app);
  EXECUTE format('REVOKE UPDATE ON transfers FROM %I', app);
  EXECUTE format('REVOKE INSERT, UPDATE ON schema_migrations FROM %I', app);
  EXECUTE format('GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO %I', app);
  -- The functions bankd calls: the transfer engine's batch (004; it reads
  -- and updates accounts, takes ledger ids from the transfers sequence and
  -- inserts ledger rows, all with the caller's grants above) and rfc3339.
  -- PUBLIC may execute functions by default; naming them keeps bankd working
  -- where an administrator revoked that default. Trigger functions
  -- (transfers_check_accounts, accounts_keep_identity, refuse_ledger_change)
  -- are never called by bankd; PostgreSQL runs them without an EXECUTE check.
  -- The system functions the service uses (pg_advisory_lock and _unlock
  -- around a batch, pg_current_xact_id for the durability barrier,
  -- pg_is_in_recovery) are PUBLIC's by default.
  EXECUTE format('GRANT EXECUTE ON FUNCTION rfc3339(timestamptz), '
                 'bank_apply_batch(text[], bigint[], bigint[], bigint[], text[], bigint[], bigint[], text[], '
                 'text[], int[]) TO %I', app);
  -- Tables of later migrations (run by the same owner) get the same grants.
  EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE ON TABLES TO %I', app);
  EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO %I', app);
  EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO %I', app);
END
$$;

CREATE FUNCTION refuse_ledger_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the ledger is append-only: % of % refused', TG_OP, TG_TABLE_NAME
      USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER transfers_append_only
    BEFORE UPDATE OR DELETE ON transfers
    FOR EACH ROW EXECUTE FUNCTION refuse_ledger_change();
CREATE TRIGGER transfers_no_truncate
    BEFORE TRUNCATE ON transfers
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_ledger_change();
