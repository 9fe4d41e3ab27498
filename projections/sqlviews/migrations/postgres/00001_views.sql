-- +goose Up
CREATE TABLE docs (
	ns  text  NOT NULL,
	key text  NOT NULL,
	doc jsonb NOT NULL,
	PRIMARY KEY (ns, key)
);
CREATE TABLE checkpoints (
	name       text   PRIMARY KEY,
	generation int    NOT NULL,
	position   bigint NOT NULL
);

-- +goose Down
DROP TABLE checkpoints;
DROP TABLE docs;
