package domain

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/servicehall/servicehall/domain/calendar"
)

// Every field a stored event holds, however deep, names its JSON key
// explicitly: renaming a Go field must not rename a key in the log.
func TestEventFieldsNameTheirKeys(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(path string, typ reflect.Type)
	walk = func(path string, typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Array || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] || typ == reflect.TypeFor[time.Time]() {
			return
		}
		seen[typ] = true
		switch reflect.New(typ).Interface().(type) {
		case interface{ MarshalJSON() ([]byte, error) }, interface{ MarshalText() ([]byte, error) }:
			return // it writes its own form
		}
		for f := range typ.Fields() {
			if !f.IsExported() {
				continue
			}
			tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if tag == "" && !f.Anonymous {
				t.Errorf("%s.%s (%s) names no JSON key in its tag", path, f.Name, typ.Name())
			}
			walk(path+"."+f.Name, f.Type)
		}
	}
	for name, typ := range registry {
		walk(name, typ)
	}
}

var update = flag.Bool("update", false, "write the golden event files in testdata/events from the current encoding")

// fill sets every field of v to a value of its own, so that a golden file
// shows every key.
func fill(v reflect.Value, name string) {
	switch v.Interface().(type) {
	case time.Time:
		v.Set(reflect.ValueOf(time.Date(2025, 10, 11, 1, 2, 3, 0, time.UTC)))
		return
	case calendar.Date:
		v.Set(reflect.ValueOf(calendar.Date{Year: 2025, Month: 10, Day: 11}))
		return
	case Clock:
		v.Set(reflect.ValueOf(Clock(9*60 + 30)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(strings.ToLower(name))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(3)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(3)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1.5)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0), name)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, name+"-key")
		fill(e, name)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), name)
		v.Set(p)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), v.Type().Field(i).Name)
			}
		}
	}
}

// Each stored event name has a golden payload in testdata/events: it
// decodes into its type and encodes back byte for byte, so a renamed field,
// a changed key or a lost event name fails here before it breaks a log.
// An event without a golden file fails too. After a deliberate change of
// a payload (with its upcaster), write them again: go test ./domain -update.
func TestGoldenEvents(t *testing.T) {
	dir := filepath.Join("testdata", "events")
	if *update {
		os.MkdirAll(dir, 0o755)
		for name, typ := range registry {
			if _, err := os.Stat(filepath.Join(dir, name+".json")); err == nil {
				continue // a golden file is never rewritten: it is what old logs hold
			}
			v := reflect.New(typ).Elem()
			fill(v, name)
			b, err := json.MarshalIndent(v.Interface(), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name+".json"), append(b, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	golden := map[string]bool{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		golden[name] = true
		if _, ok := registry[name]; !ok {
			t.Errorf("%s: no event is registered under this name, and old logs hold it", f)
			continue
		}
		want, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := DecodeSchema(name, 1, want)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if Schema(name) != 1 {
			continue // upcast: compared through its upcaster's own test
		}
		typ, got, err := Encode(ev)
		if err != nil || typ != name {
			t.Errorf("%s: encoded as %q, %v", f, typ, err)
			continue
		}
		var indented bytes.Buffer
		json.Indent(&indented, got, "", "  ")
		indented.WriteByte('\n')
		if !bytes.Equal(indented.Bytes(), want) {
			t.Errorf("%s: re-encoded differently:\n%s\nwant:\n%s", f, indented.Bytes(), want)
		}
	}
	for name := range registry {
		if !golden[name] {
			t.Errorf("event %s has no golden file in %s (go test ./domain -run TestGoldenEvents -update)", name, dir)
		}
	}
}

// An event read under an older schema is brought up to date by its
// upcasters, in order; a newer one than the program knows is refused.
func TestUpcasting(t *testing.T) {
	type renamed struct {
		Who string `json:"who"`
	}
	const name = "TestRenamed"
	register(map[string]Event{name: renamed{}})
	defer func() {
		delete(registry, name)
		delete(names, reflect.TypeFor[renamed]())
		delete(schemas, name)
		delete(upcaster, name)
	}()
	upcast(name, 1, func(b []byte) ([]byte, error) { // v1 called it "by"
		var v1 struct {
			By string `json:"by"`
		}
		err := json.Unmarshal(b, &v1)
		return fmt.Appendf(nil, `{"who":%q}`, v1.By), err
	})
	if Schema(name) != 2 {
		t.Fatalf("schema after one upcaster = %d, want 2", Schema(name))
	}
	for _, c := range []struct {
		version int
		data    string
	}{{0, `{"by":"li.wei"}`}, {1, `{"by":"li.wei"}`}, {2, `{"who":"li.wei"}`}} {
		ev, err := DecodeSchema(name, c.version, []byte(c.data))
		if err != nil || ev.(renamed).Who != "li.wei" {
			t.Errorf("version %d: %+v, %v", c.version, ev, err)
		}
	}
	if _, err := DecodeSchema(name, 3, []byte(`{}`)); err == nil {
		t.Error("a schema newer than the program's was read")
	}
}
