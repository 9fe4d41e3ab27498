package main

import (
	"context"
	"errors"
	"io"
)

func importCalendar(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("import-calendar: not yet")
}
