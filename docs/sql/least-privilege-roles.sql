-- Switchyard on PostgreSQL with least privilege: the two roles and the database (docs/history.md).
-- Run once, as a superuser, connected to any database (e.g. `psql -d postgres -f ...`).
-- Choose real passwords; test/integration/least-privilege.integration.spec.ts runs this file with
-- other names.

-- Owns the schema: runs the migrations (SWITCHYARD_MIGRATIONS_DATABASE_URL). The only role that
-- may alter or disable the history triggers. The service never connects as it.
CREATE ROLE switchyard_owner LOGIN PASSWORD 'change-me-owner';

-- The service's role (DATABASE_URL): owns nothing, may read and write the configuration, and may
-- only INSERT and SELECT the history and its checkpoints. Not a superuser: it cannot set
-- session_replication_role, so it cannot make the triggers look away either.
CREATE ROLE switchyard_runtime LOGIN PASSWORD 'change-me-runtime' NOSUPERUSER NOCREATEDB NOCREATEROLE;

CREATE DATABASE switchyard OWNER switchyard_owner;
