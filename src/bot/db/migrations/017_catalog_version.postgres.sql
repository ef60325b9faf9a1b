-- The catalogue's version: what a running bot keeps in memory (active plans, payment methods, whether
-- a server takes new accounts, the settings table) is read again when this number differs from the
-- one it read last. Every change to those tables bumps it in the same transaction, whoever makes it
-- (an admin, `nebula-bot jobs run`, a second bot during an upgrade, an operator with psql): the
-- triggers below catch every writer. One row, id 1.
CREATE TABLE catalog_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO catalog_version (id, version) VALUES (1, 1);

CREATE FUNCTION catalog_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER plans_changed_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON plans
FOR EACH STATEMENT EXECUTE FUNCTION catalog_version_bump();
CREATE TRIGGER payment_methods_changed_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON payment_methods
FOR EACH STATEMENT EXECUTE FUNCTION catalog_version_bump();
-- Servers: only what the memory holds (enabled or not); the health job's writes change nothing kept.
CREATE TRIGGER servers_changed_bump AFTER INSERT OR UPDATE OF enabled OR DELETE OR TRUNCATE ON servers
FOR EACH STATEMENT EXECUTE FUNCTION catalog_version_bump();
CREATE TRIGGER settings_changed_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON settings
FOR EACH STATEMENT EXECUTE FUNCTION catalog_version_bump();
