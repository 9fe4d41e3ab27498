package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
)

// importCalendar records an official holiday notice in the log, as the
// admin user; importing the same notice again writes nothing.
func importCalendar(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, pos, err := parse("import-calendar", args, stderr, nil)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("import-calendar: give one holiday-cn JSON file (请指定一个节假日 JSON 文件)")
	}
	b, err := os.ReadFile(pos[0])
	if err != nil {
		return fmt.Errorf("import-calendar: %w", err)
	}
	n, err := calendar.ParseNotice(b)
	if err == nil {
		err = n.Complete()
	}
	if err != nil {
		return fmt.Errorf("import-calendar %s: %w", pos[0], err)
	}
	store, err := openStore(ctx, c)
	if err != nil {
		return err
	}
	defer store.Close()
	h, err := command.New(store)
	if err != nil {
		return err
	}
	m := command.Meta{Actor: command.Actor{ID: "admin", Role: domain.RoleAdmin}, At: now()}
	res, err := command.Execute(ctx, h, domain.CalendarStream(n.Year), m, func(y *domain.CalendarYear) ([]domain.Event, error) {
		return y.Import(n)
	})
	if err != nil {
		return fmt.Errorf("import-calendar: %w", err)
	}
	off, makeUp := 0, 0
	for _, d := range n.Days {
		if d.OffDay {
			off++
		} else {
			makeUp++
		}
	}
	verb := "imported"
	if len(res.Events) == 0 {
		verb = "already imported, unchanged"
	}
	fmt.Fprintf(stdout, "%d: %s: %d holidays, %d make-up working days (%d年: 节假日%d天, 调休上班%d天)\n",
		n.Year, verb, off, makeUp, n.Year, off, makeUp)
	return nil
}
