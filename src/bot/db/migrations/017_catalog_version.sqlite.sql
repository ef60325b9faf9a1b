-- The catalogue's version: what a running bot keeps in memory (active plans, payment methods, whether
-- a server takes new accounts, the settings table) is read again when this number differs from the
-- one it read last. Every change to those tables bumps it in the same transaction, whoever makes it
-- (an admin, `nebula-bot jobs run`, a second bot during an upgrade, an operator with sqlite3): the
-- triggers below catch every writer. One row, id 1.
CREATE TABLE catalog_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO catalog_version (id, version) VALUES (1, 1);

CREATE TRIGGER plans_inserted_bump AFTER INSERT ON plans
BEGIN UPDATE catalog_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER plans_updated_bump AFTER UPDATE ON plans
BEGIN UPDATE catalog_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER plans_deleted_bump AFTER DELETE ON plans
BEGIN UPDATE catalog_version SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER payment_methods_inserted_bump AFTER INSERT ON payment_methods
BEGIN UPDATE catalog_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER payment_methods_updated_bump AFTER UPDATE ON payment_methods
BEGIN UPDATE catalog_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER payment_methods_deleted_bump AFTER DELETE ON payment_methods
BEGIN UPDATE catalog_version SET version = version + 1 WHERE id = 1; END;

-- Servers: only what the memory holds (enabled or not); the health job's writes change nothing kept.
CREATE TRIGGER servers_inserted_bump AFTER INSERT ON servers
BEGIN UPDATE catalog_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER servers_enabled_bump AFTER UPDATE OF enabled ON servers
BEGIN UPDATE catalog_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER servers_deleted_bump AFTER DELETE ON servers
BEGIN UPDATE catalog_version SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER settings_inserted_bump AFTER INSERT ON settings
BEGIN UPDATE catalog_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER settings_updated_bump AFTER UPDATE ON settings
BEGIN UPDATE catalog_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER settings_deleted_bump AFTER DELETE ON settings
BEGIN UPDATE catalog_version SET version = version + 1 WHERE id = 1; END;
