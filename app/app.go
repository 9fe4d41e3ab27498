// Package app is the application: the commands that change the hall
// (app/command) and the queries that read it (app/query). The HTTP API and
// the jobs hold one Application and reach the log through nothing else.
package app

import (
	"errors"
	"time"

	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/app/query"
	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/eventstore"
	"github.com/servicehall/servicehall/logins"
	"github.com/servicehall/servicehall/projections"
)

// Application is every way in.
type Application struct {
	Commands *command.Hall
	Queries  *query.Queries
}

// New returns the application over a log and its views, with the keys of
// the residents' references and sealed details and the store of password
// hashes (nil: in memory).
func New(log eventstore.Store, views *projections.Engine, loc *time.Location, policy domain.Policy, keys command.Keys, passwords logins.Store) (*Application, error) {
	if log == nil || views == nil {
		return nil, errors.New("app: New needs a log and views")
	}
	h, err := command.New(log)
	if err != nil {
		return nil, err
	}
	hall, err := command.NewHall(h, loc, policy, keys, passwords)
	if err != nil {
		return nil, err
	}
	return &Application{Commands: hall, Queries: query.New(log, views)}, nil
}
