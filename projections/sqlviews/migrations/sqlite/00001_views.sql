-- +goose Up
CREATE TABLE docs (
	ns  TEXT NOT NULL,
	key TEXT NOT NULL,
	doc TEXT NOT NULL,
	PRIMARY KEY (ns, key)
) WITHOUT ROWID;
CREATE TABLE checkpoints (
	name       TEXT    PRIMARY KEY,
	generation INTEGER NOT NULL,
	position   INTEGER NOT NULL
);

-- +goose Down
DROP TABLE checkpoints;
DROP TABLE docs;
