-- +goose Up
CREATE TABLE log_events (
	position    bigint      PRIMARY KEY,
	id          uuid        NOT NULL UNIQUE,
	stream      text        NOT NULL,
	version     bigint      NOT NULL,
	type        text        NOT NULL,
	data        jsonb       NOT NULL,
	occurred_at timestamptz NOT NULL,
	actor_id    text        NOT NULL,
	actor_role  text        NOT NULL,
	correlation text        NOT NULL,
	causation   text        NOT NULL,
	schema      int         NOT NULL,
	UNIQUE (stream, version)
);
CREATE TABLE log_streams (
	stream  text   PRIMARY KEY,
	version bigint NOT NULL
);
-- One row: the last position handed out. Appends take it in turn, so
-- positions are given in commit order and a reader never sees n+1 before n.
CREATE TABLE log_head (
	one      boolean PRIMARY KEY DEFAULT true CHECK (one),
	position bigint  NOT NULL
);
INSERT INTO log_head (position) VALUES (0);

-- +goose Down
DROP TABLE log_head;
DROP TABLE log_streams;
DROP TABLE log_events;
