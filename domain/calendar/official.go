package calendar

import (
	"embed"
	"fmt"
	"io/fs"
)

// The State Council's notices as published by holiday-cn (MIT, official/LICENSE).
//
//go:embed official/*.json
var official embed.FS

// Official returns the notices shipped with servicehall (2024-2027 at the
// time of writing; a year whose notice is not yet out has no days).
func Official() ([]Notice, error) {
	names, err := fs.Glob(official, "official/*.json")
	if err != nil {
		return nil, err
	}
	var ns []Notice
	for _, name := range names {
		b, err := official.ReadFile(name)
		if err != nil {
			return nil, err
		}
		n, err := ParseNotice(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		ns = append(ns, n)
	}
	return ns, nil
}
