-- One login role and one schema per service; a role owns its schema and is granted nothing else,
-- so a service can touch only its own tables (ARCHITECTURE.md, Data). Idempotent: run by
-- `make up`, by the test harness and by the PostgreSQL container's init step.
DO $$
DECLARE s text;
BEGIN
  FOREACH s IN ARRAY ARRAY['identity', 'catalog', 'publisher', 'billing', 'notifier'] LOOP
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = s) THEN
      EXECUTE format('CREATE ROLE %I LOGIN', s);
    END IF;
    EXECUTE format('CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION %I', s, s);
    EXECUTE format('ALTER ROLE %I SET search_path = %I', s, s);
  END LOOP;
END $$;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
