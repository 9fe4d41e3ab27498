package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
)

// PostgresLock is a Locker for several processes sharing PostgreSQL read
// models: a session advisory lock per job, held on its own connection for
// the length of the run, so a replica that dies gives it back with its
// connection.
type PostgresLock struct{ DB *sql.DB }

func (l PostgresLock) TryLock(ctx context.Context, name string) (func(), bool, error) {
	conn, err := l.DB.Conn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("advisory lock %s: %w", name, err)
	}
	h := fnv.New64a()
	h.Write([]byte("servicehall-job:" + name))
	key := int64(h.Sum64())
	var ok bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&ok); err != nil || !ok {
		conn.Close()
		if err != nil {
			return nil, false, fmt.Errorf("advisory lock %s: %w", name, err)
		}
		return nil, false, nil
	}
	return func() {
		// A failed unlock is ended by closing the session.
		conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", key)
		conn.Close()
	}, true, nil
}
