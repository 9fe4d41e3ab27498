package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/eventstore"
)

// Projection builds one view from events. Apply must be deterministic: a
// rebuild from the log gives the view the live one has.
type Projection interface {
	Name() string
	Apply(v *View, r eventstore.Record, e domain.Event) error
}

// View is a projection's documents during one batch: reads go through it,
// writes stay in it until the batch is written with its checkpoint.
type View struct {
	ctx    context.Context
	store  Store
	prefix string          // "{name}/{generation}/"
	docs   map[docKey]*doc // the runner's cache: only it writes its namespace
	dirty  []docKey
	// complete says the cache holds every readable document of this
	// generation (a rebuild from nothing): a miss needs no store lookup.
	complete bool
}

type docKey struct{ table, key string }

type doc struct {
	val     any
	dirty   bool
	deleted bool
	once    bool // written, never read back: leaves the cache once stored
}

// cacheSize bounds the documents a runner keeps decoded between batches.
const cacheSize = 250_000

func newView(ctx context.Context, store Store, name string, gen int, cache map[docKey]*doc) *View {
	return &View{ctx: ctx, store: store, prefix: fmt.Sprintf("%s/%d/", name, gen), docs: cache}
}

// Get reads a document as a T.
func Get[T any](v *View, table, key string) (T, bool, error) {
	var zero T
	if d, ok := v.docs[docKey{table, key}]; ok {
		if d.deleted {
			return zero, false, nil
		}
		t, ok := d.val.(T)
		if !ok {
			return zero, false, fmt.Errorf("%s%s/%s holds %T, not %T", v.prefix, table, key, d.val, zero)
		}
		return t, true, nil
	}
	if v.complete {
		return zero, false, nil
	}
	raw, ok, err := v.store.Get(v.ctx, v.prefix+table, key)
	if err != nil || !ok {
		return zero, false, err
	}
	var t T
	if err := json.Unmarshal(raw, &t); err != nil {
		return zero, false, fmt.Errorf("%s%s/%s: %w", v.prefix, table, key, err)
	}
	v.docs[docKey{table, key}] = &doc{val: t}
	return t, true, nil
}

// Put stores val (a value, not a pointer) under key.
func (v *View) Put(table, key string, val any) {
	v.set(docKey{table, key}, &doc{val: val, dirty: true})
}

func (v *View) Delete(table, key string) { v.set(docKey{table, key}, &doc{dirty: true, deleted: true}) }

// Add stores a document the projection never reads back (an index entry, a
// line of a trail): it is not kept in the cache once written.
func (v *View) Add(table, key string, val any) {
	v.set(docKey{table, key}, &doc{val: val, dirty: true, once: true})
}

func (v *View) set(k docKey, d *doc) {
	if old, ok := v.docs[k]; !ok || !old.dirty {
		v.dirty = append(v.dirty, k)
	}
	v.docs[k] = d
}

// Scan reads the stored documents of a table in a key range, decoded as T.
// Writes of the current batch are not seen: use it to answer queries.
func Scan[T any](ctx context.Context, store Store, ns, from, to string) ([]T, error) {
	kvs, err := store.Scan(ctx, ns, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(kvs))
	for _, kv := range kvs {
		t, err := decode[T](kv)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func (v *View) batch() (Batch, error) {
	var b Batch
	for _, k := range v.dirty {
		d := v.docs[k]
		if d.deleted {
			b.Deletes = append(b.Deletes, KV{NS: v.prefix + k.table, Key: k.key})
			continue
		}
		raw, err := json.Marshal(d.val)
		if err != nil {
			return Batch{}, fmt.Errorf("%s%s/%s: %w", v.prefix, k.table, k.key, err)
		}
		b.Puts = append(b.Puts, KV{NS: v.prefix + k.table, Key: k.key, Doc: raw})
	}
	return b, nil
}

// Engine runs projections over the log into a read-model store.
type Engine struct {
	log     eventstore.Store
	store   Store
	runners map[string]*runner
	names   []string
}

type runner struct {
	p        Projection
	cache    map[docKey]*doc
	complete bool       // the cache holds every readable document of the generation
	mu       sync.Mutex // one batch at a time; a rebuild's swap takes it too
	gen      int
	pos      atomic.Uint64
	waitMu   sync.Mutex
	changed  chan struct{}
	failed   atomic.Pointer[error]
	tablesMu sync.Mutex
	tables   map[string]bool // the tables this runner has written
}

// NewEngine loads each projection's checkpoint.
func NewEngine(ctx context.Context, log eventstore.Store, store Store, ps ...Projection) (*Engine, error) {
	cps, err := store.Checkpoints(ctx)
	if err != nil {
		return nil, err
	}
	e := &Engine{log: log, store: store, runners: map[string]*runner{}}
	for _, p := range ps {
		r := &runner{p: p, gen: 1, changed: make(chan struct{})}
		if c, ok := cps[p.Name()]; ok {
			r.gen = c.Generation
			r.pos.Store(c.Position)
		}
		e.runners[p.Name()] = r
		e.names = append(e.names, p.Name())
	}
	return e, nil
}

// Names lists the projections in the order given.
func (e *Engine) Names() []string { return e.names }

// Store is the read-model store the views live in.
func (e *Engine) Store() Store { return e.store }

// NS is the namespace of a table in a projection's live generation.
func (e *Engine) NS(name, table string) string {
	r := e.runners[name]
	r.mu.Lock()
	defer r.mu.Unlock()
	return fmt.Sprintf("%s/%d/%s", name, r.gen, table)
}

// Position is how far a projection has read the log.
func (e *Engine) Position(name string) uint64 { return e.runners[name].pos.Load() }

// Err is why a projection stopped, or nil.
func (e *Engine) Err(name string) error {
	if p := e.runners[name].failed.Load(); p != nil {
		return *p
	}
	return nil
}

// Handle applies records to one projection, skipping those it has seen, and
// writes the view with its new checkpoint in one batch. An event it cannot
// apply stops the projection there: it is never skipped.
func (e *Engine) Handle(ctx context.Context, name string, recs []eventstore.Record) error {
	r, ok := e.runners[name]
	if !ok {
		return fmt.Errorf("no projection %q", name)
	}
	evs, err := decodeAll(recs)
	if err != nil {
		err = fmt.Errorf("projection %s: %w", name, err)
		r.failed.Store(&err)
		return err
	}
	return e.handle(ctx, r, recs, evs)
}

func (e *Engine) handle(ctx context.Context, r *runner, recs []eventstore.Record, evs []domain.Event) error {
	name := r.p.Name()
	r.mu.Lock()
	defer r.mu.Unlock()
	err := e.apply(ctx, r, r.gen, recs, evs, name)
	if err != nil {
		err = fmt.Errorf("projection %s: %w", name, err)
		r.failed.Store(&err)
		return err
	}
	r.failed.Store(nil)
	return nil
}

// decodeAll decodes a batch once for every projection that reads it.
func decodeAll(recs []eventstore.Record) ([]domain.Event, error) {
	evs := make([]domain.Event, len(recs))
	for i, rec := range recs {
		ev, err := domain.DecodeSchema(rec.Type, rec.Schema, rec.Data)
		if err != nil {
			return nil, fmt.Errorf("event %d (%s): %w", rec.Position, rec.Type, err)
		}
		evs[i] = ev
	}
	return evs, nil
}

func (e *Engine) apply(ctx context.Context, r *runner, gen int, recs []eventstore.Record, evs []domain.Event, checkpoint string) error {
	from := r.pos.Load()
	if checkpoint != r.p.Name() {
		from = 0 // a rebuild tracks its own position
	}
	if r.cache == nil || len(r.cache) > cacheSize {
		r.cache, r.complete = map[docKey]*doc{}, false
	}
	v := newView(ctx, e.store, r.p.Name(), gen, r.cache)
	v.complete = r.complete
	last := uint64(0)
	for i, rec := range recs {
		if rec.Position <= from {
			continue
		}
		if err := r.p.Apply(v, rec, evs[i]); err != nil {
			r.cache = nil
			return fmt.Errorf("event %d (%s): %w", rec.Position, rec.Type, err)
		}
		last = rec.Position
	}
	if last == 0 {
		return nil
	}
	b, err := v.batch()
	if err != nil {
		r.cache = nil // it holds what was not written
		return err
	}
	b.Checkpoints = []Checkpoint{{Name: checkpoint, Generation: gen, Position: last}}
	if err := e.store.Write(ctx, b); err != nil {
		r.cache = nil
		return err
	}
	r.tablesMu.Lock()
	if r.tables == nil {
		r.tables = map[string]bool{}
	}
	for _, k := range v.dirty {
		r.tables[k.table] = true
	}
	r.tablesMu.Unlock()
	for _, k := range v.dirty {
		if d := v.docs[k]; d.deleted || d.once {
			delete(v.docs, k)
		} else {
			d.dirty = false
		}
	}
	if checkpoint == r.p.Name() {
		r.pos.Store(last)
		r.waitMu.Lock()
		close(r.changed)
		r.changed = make(chan struct{})
		r.waitMu.Unlock()
	}
	return nil
}

// CatchUp reads the log from the slowest projection's position to the head
// in large batches, applying each batch to every projection that needs it.
func (e *Engine) CatchUp(ctx context.Context) error {
	from := e.minPosition()
	for {
		recs, err := e.log.ReadAll(ctx, from, 5000)
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			return nil
		}
		evs, err := decodeAll(recs)
		if err != nil {
			return err
		}
		for _, name := range e.names {
			if err := e.handle(ctx, e.runners[name], recs, evs); err != nil {
				return err
			}
		}
		from = recs[len(recs)-1].Position
	}
}

// catchUpOne reads the log into one projection up to position to.
func (e *Engine) catchUpOne(ctx context.Context, name string, to uint64) error {
	for from := e.Position(name); from < to; {
		recs, err := e.log.ReadAll(ctx, from, 5000)
		if err != nil || len(recs) == 0 {
			return err
		}
		if err := e.Handle(ctx, name, recs); err != nil {
			return err
		}
		from = recs[len(recs)-1].Position
	}
	return nil
}

func (e *Engine) minPosition() uint64 {
	var min uint64
	for i, name := range e.names {
		if p := e.runners[name].pos.Load(); i == 0 || p < min {
			min = p
		}
	}
	return min
}

// MinPosition is where a feed must start for no projection to miss an event.
func (e *Engine) MinPosition() uint64 { return e.minPosition() }

// WaitFor blocks until the projection has applied position pos, or ctx ends.
func (e *Engine) WaitFor(ctx context.Context, name string, pos uint64) error {
	r, ok := e.runners[name]
	if !ok {
		return fmt.Errorf("no projection %q", name)
	}
	for {
		r.waitMu.Lock()
		ch := r.changed
		r.waitMu.Unlock()
		if r.pos.Load() >= pos {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("projection %s at %d, waiting for %d: %w", name, r.pos.Load(), pos, ctx.Err())
		}
	}
}

// Rebuild builds a fresh generation of the named projections' views from
// the log, in one pass, while the live ones keep serving; then swaps each in:
// readers never see a half-built view. progress is called after each batch.
func (e *Engine) Rebuild(ctx context.Context, names []string, progress func(pos, head uint64)) error {
	return e.rebuild(ctx, names, progress, false)
}

// Reset rebuilds the named projections as Rebuild does, and leaves them at
// the log's head even where they claimed to be past it.
func (e *Engine) Reset(ctx context.Context, names []string, progress func(pos, head uint64)) error {
	return e.rebuild(ctx, names, progress, true)
}

// logMark is the checkpoint that names the log the views follow: its first
// event's id, which another log does not share.
const logMark = "log:"

func (e *Engine) logID(ctx context.Context) (string, error) {
	first, err := e.log.ReadAll(ctx, 0, 1)
	if err != nil || len(first) == 0 {
		return "", err
	}
	return first[0].ID.String(), nil
}

// Check lists the projections that do not follow this log: every one when
// the views were built from another log, else those checkpointed past its
// head (a log restored from an older backup). Serving them would show what
// the log does not hold.
func (e *Engine) Check(ctx context.Context) ([]string, error) {
	id, err := e.logID(ctx)
	if err != nil {
		return nil, err
	}
	head, err := e.log.Head(ctx)
	if err != nil {
		return nil, err
	}
	cps, err := e.store.Checkpoints(ctx)
	if err != nil {
		return nil, err
	}
	other := false
	for name, c := range cps {
		if mark, ok := strings.CutPrefix(name, logMark); ok && c.Generation == 1 && mark != id {
			other = true
		}
	}
	var stale []string
	for _, name := range e.names {
		if other || e.Position(name) > head {
			stale = append(stale, name)
		}
	}
	return stale, nil
}

// MarkLog records which log the views follow, once the log holds an event.
func (e *Engine) MarkLog(ctx context.Context) error {
	id, err := e.logID(ctx)
	if err != nil || id == "" {
		return err
	}
	cps, err := e.store.Checkpoints(ctx)
	if err != nil {
		return err
	}
	if c, ok := cps[logMark+id]; ok && c.Generation == 1 {
		return nil
	}
	var b Batch // a mark is live at generation 1; another log's is retired at 0
	for name := range cps {
		if strings.HasPrefix(name, logMark) {
			b.Checkpoints = append(b.Checkpoints, Checkpoint{Name: name})
		}
	}
	b.Checkpoints = append(b.Checkpoints, Checkpoint{Name: logMark + id, Generation: 1})
	return e.store.Write(ctx, b)
}

// Ahead says whether a projection claims more than the log holds.
func (e *Engine) Ahead(ctx context.Context, name string) (bool, error) {
	head, err := e.log.Head(ctx)
	return e.Position(name) > head, err
}

func (e *Engine) rebuild(ctx context.Context, names []string, progress func(pos, head uint64), reset bool) error {
	type job struct {
		live, next *runner
		gen        int
		building   string
	}
	var jobs []job
	for _, name := range names {
		r, ok := e.runners[name]
		if !ok {
			return fmt.Errorf("no projection %q", name)
		}
		r.mu.Lock()
		gen := r.gen + 1
		r.mu.Unlock()
		fresh := &runner{p: r.p, cache: map[docKey]*doc{}, complete: true} // a new generation starts empty
		jobs = append(jobs, job{r, fresh, gen, fmt.Sprintf("%s#%d", name, gen)})
	}
	head, err := e.log.Head(ctx)
	if err != nil {
		return err
	}
	var pos uint64
	step := func() (bool, error) {
		recs, err := e.log.ReadAll(ctx, pos, 10000)
		if err != nil || len(recs) == 0 {
			return false, err
		}
		evs, err := decodeAll(recs)
		if err != nil {
			return false, fmt.Errorf("rebuild: %w", err)
		}
		for _, j := range jobs {
			if err := e.apply(ctx, j.next, j.gen, recs, evs, j.building); err != nil {
				return false, fmt.Errorf("rebuild %s: %w", j.live.p.Name(), err)
			}
		}
		pos = recs[len(recs)-1].Position
		if progress != nil {
			progress(pos, max(head, pos))
		}
		return true, nil
	}
	for pos < head { // catch up without holding up the live views
		if more, err := step(); err != nil {
			return err
		} else if !more {
			break
		}
	}
	for _, j := range jobs { // the last events, with the live views held still
		j.live.mu.Lock()
		defer j.live.mu.Unlock()
	}
	for {
		more, err := step()
		if err != nil {
			return err
		}
		if !more {
			break
		}
	}
	for _, j := range jobs {
		name := j.live.p.Name()
		at := max(pos, j.live.pos.Load()) // an empty tail leaves it where the live view is
		if reset {
			at = pos
		}
		b := Batch{
			Drops:       []string{fmt.Sprintf("%s/%d/", name, j.live.gen)},
			Checkpoints: []Checkpoint{{Name: name, Generation: j.gen, Position: at}, {Name: j.building, Generation: j.gen, Position: 0}},
		}
		if err := e.store.Write(ctx, b); err != nil {
			return err
		}
		j.live.gen, j.live.cache = j.gen, j.next.cache
		j.live.pos.Store(at)
	}
	return nil
}

// Tables lists the tables a projection has written since the engine
// started, sorted: after a full catch-up from the log, all of its tables.
func (e *Engine) Tables(name string) []string {
	r := e.runners[name]
	r.tablesMu.Lock()
	defer r.tablesMu.Unlock()
	out := make([]string, 0, len(r.tables))
	for t := range r.tables {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// Dump reads every document of a projection's live tables, keyed
// "table/key": to compare two engines' views of the same log.
func (e *Engine) Dump(ctx context.Context, name string, tables []string) (map[string]string, error) {
	out := map[string]string{}
	for _, table := range tables {
		kvs, err := e.store.Scan(ctx, e.NS(name, table), "", "")
		if err != nil {
			return nil, err
		}
		for _, kv := range kvs {
			out[table+"/"+kv.Key] = string(kv.Doc)
		}
	}
	return out, nil
}

// Refresh reads every projection's position and generation from the
// store's checkpoints and forgets cached documents: for a process whose
// views another process writes, and before it takes over writing them.
func (e *Engine) Refresh(ctx context.Context) error {
	cps, err := e.store.Checkpoints(ctx)
	if err != nil {
		return fmt.Errorf("refresh: %w", err)
	}
	for _, name := range e.names {
		r := e.runners[name]
		c, ok := cps[name]
		if !ok {
			continue
		}
		r.mu.Lock()
		moved := c.Position != r.pos.Load() || c.Generation != r.gen
		if moved {
			r.gen, r.cache, r.complete = c.Generation, nil, false
			r.pos.Store(c.Position)
		}
		r.mu.Unlock()
		if moved {
			r.waitMu.Lock()
			close(r.changed)
			r.changed = make(chan struct{})
			r.waitMu.Unlock()
		}
	}
	return nil
}
