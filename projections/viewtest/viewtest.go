// Package viewtest is the conformance suite of read-model stores.
package viewtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/servicehall/servicehall/projections"
)

// Run tests a store; open returns an empty store, reopen the same one
// after a restart (nil when the store does not outlive its process).
func Run(t *testing.T, open func(t *testing.T) projections.Store, reopen func(t *testing.T, s projections.Store) projections.Store) {
	ctx := context.Background()
	t.Run("PutGetScan", func(t *testing.T) {
		s := open(t)
		defer s.Close()
		var b projections.Batch
		for _, k := range []string{"2025-10-11/b", "2025-10-11/a", "2025-10-12/a", "2025-10-13/a"} {
			b.Puts = append(b.Puts, projections.KV{NS: "v/1/slots", Key: k, Doc: []byte(fmt.Sprintf(`{"k":%q}`, k))})
		}
		b.Puts = append(b.Puts, projections.KV{NS: "v/2/slots", Key: "2025-10-11/a", Doc: []byte(`{"other":true}`)})
		if err := s.Write(ctx, b); err != nil {
			t.Fatal(err)
		}
		doc, ok, err := s.Get(ctx, "v/1/slots", "2025-10-11/a")
		if err != nil || !ok || !sameJSON(doc, `{"k":"2025-10-11/a"}`) {
			t.Fatalf("Get = %s, %v, %v", doc, ok, err)
		}
		if _, ok, _ := s.Get(ctx, "v/1/slots", "nope"); ok {
			t.Fatal("found a key never written")
		}
		got, err := s.Scan(ctx, "v/1/slots", "2025-10-11", "2025-10-13")
		if err != nil || len(got) != 3 || got[0].Key != "2025-10-11/a" || got[2].Key != "2025-10-12/a" {
			t.Fatalf("Scan range = %v, %v", got, err)
		}
		got, _ = s.Scan(ctx, "v/1/slots", "2025-10-11/", projections.PrefixEnd("2025-10-11/"))
		if len(got) != 2 {
			t.Fatalf("Scan prefix = %v", got)
		}
		got, _ = s.Scan(ctx, "v/1/slots", "", "")
		if len(got) != 4 {
			t.Fatalf("Scan all = %d documents, want 4 (namespaces must not mix)", len(got))
		}
	})
	t.Run("OverwriteDeleteDrop", func(t *testing.T) {
		s := open(t)
		defer s.Close()
		s.Write(ctx, projections.Batch{Puts: []projections.KV{{NS: "a/1/x", Key: "k", Doc: []byte(`1`)}, {NS: "a/1/x", Key: "j", Doc: []byte(`2`)}, {NS: "a/1/y", Key: "k", Doc: []byte(`3`)}}})
		if err := s.Write(ctx, projections.Batch{Puts: []projections.KV{{NS: "a/1/x", Key: "k", Doc: []byte(`10`)}}, Deletes: []projections.KV{{NS: "a/1/x", Key: "j"}}}); err != nil {
			t.Fatal(err)
		}
		if d, _, _ := s.Get(ctx, "a/1/x", "k"); !sameJSON(d, "10") {
			t.Fatalf("overwrite: %s", d)
		}
		if _, ok, _ := s.Get(ctx, "a/1/x", "j"); ok {
			t.Fatal("delete left the document")
		}
		s.Write(ctx, projections.Batch{Puts: []projections.KV{{NS: "a/11/x", Key: "k", Doc: []byte(`4`)}}})
		if err := s.Write(ctx, projections.Batch{Drops: []string{"a/1/"}}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Scan(ctx, "a/1/x", "", ""); len(got) != 0 {
			t.Fatalf("drop left %v", got)
		}
		if _, ok, _ := s.Get(ctx, "a/1/y", "k"); ok {
			t.Fatal("drop of a/1/ left a/1/y")
		}
		if _, ok, _ := s.Get(ctx, "a/11/x", "k"); !ok {
			t.Fatal("drop of a/1/ took a/11/x")
		}
	})
	t.Run("CheckpointsCommitWithTheView", func(t *testing.T) {
		s := open(t)
		defer s.Close()
		if err := s.Write(ctx, projections.Batch{
			Puts:        []projections.KV{{NS: "q/1/t", Key: "k", Doc: []byte(`{}`)}},
			Checkpoints: []projections.Checkpoint{{Name: "q", Generation: 1, Position: 42}},
		}); err != nil {
			t.Fatal(err)
		}
		cps, err := s.Checkpoints(ctx)
		if err != nil || cps["q"] != (projections.Checkpoint{Name: "q", Generation: 1, Position: 42}) {
			t.Fatalf("checkpoints = %+v, %v", cps, err)
		}
		if reopen == nil {
			return
		}
		s = reopen(t, s)
		cps, err = s.Checkpoints(ctx)
		if err != nil || cps["q"].Generation != 1 || cps["q"].Position < 42 {
			t.Fatalf("after reopen: %+v, %v", cps, err)
		}
		if _, ok, _ := s.Get(ctx, "q/1/t", "k"); !ok {
			t.Fatal("document lost on reopen")
		}
	})
}

// sameJSON compares values: a store may keep JSON in a normal form.
func sameJSON(got []byte, want string) bool {
	var a, b any
	if json.Unmarshal(got, &a) != nil || json.Unmarshal([]byte(want), &b) != nil {
		return false
	}
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
