-- Switchyard on PostgreSQL with least privilege: what the runtime role may do (docs/history.md).
-- Run once, as a superuser, connected to the switchyard database (`psql -d switchyard -f ...`),
-- before the first migration: every table the owner creates from then on is granted here, and the
-- migration that makes history provable takes UPDATE, DELETE and TRUNCATE on the history tables
-- back from every role but their owner.

-- Only the owner creates objects; the runtime role may use what is there.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO switchyard_runtime;

-- Tables and sequences the owner creates (migrations): read and write for the runtime role.
ALTER DEFAULT PRIVILEGES FOR ROLE switchyard_owner IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO switchyard_runtime;
ALTER DEFAULT PRIVILEGES FOR ROLE switchyard_owner IN SCHEMA public
  GRANT USAGE, SELECT ON SEQUENCES TO switchyard_runtime;
