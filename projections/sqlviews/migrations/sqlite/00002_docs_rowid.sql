-- Documents live in a table with row ids, found through a separate index
-- of their keys: a large write appends rows at the table's end and keeps
-- only the small index in key order, where the keyed table (WITHOUT ROWID)
-- moved whole documents through its B-tree.
-- +goose Up
CREATE TABLE docs_new (
	ns  TEXT NOT NULL,
	key TEXT NOT NULL,
	doc TEXT NOT NULL
);
INSERT INTO docs_new (ns, key, doc) SELECT ns, key, doc FROM docs;
DROP TABLE docs;
ALTER TABLE docs_new RENAME TO docs;
CREATE UNIQUE INDEX docs_key ON docs (ns, key);

-- +goose Down
CREATE TABLE docs_old (
	ns  TEXT NOT NULL,
	key TEXT NOT NULL,
	doc TEXT NOT NULL,
	PRIMARY KEY (ns, key)
) WITHOUT ROWID;
INSERT INTO docs_old (ns, key, doc) SELECT ns, key, doc FROM docs;
DROP TABLE docs;
ALTER TABLE docs_old RENAME TO docs;
