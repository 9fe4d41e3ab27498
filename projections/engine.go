package projections

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

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
	lists  map[docKey]*list // appended this batch, by table and owner
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
	stored  bool // in the store, its value dropped from the cache to save memory
	hot     bool // read or written since the cache was last cooled
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
		d.hot = true
		if d.stored {
			t, ok, err := load[T](v, table, key)
			if err != nil || !ok {
				return zero, false, orMissing(err, ok, "document", v.prefix+table+"/"+key)
			}
			d.val, d.stored = t, false
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
	t, ok, err := load[T](v, table, key)
	if err != nil || !ok {
		return zero, false, err
	}
	v.docs[docKey{table, key}] = &doc{val: t, hot: true}
	return t, true, nil
}

func load[T any](v *View, table, key string) (T, bool, error) {
	var t T
	raw, ok, err := v.store.Get(v.ctx, v.prefix+table, key)
	if err != nil || !ok {
		return t, false, err
	}
	if err := json.Unmarshal(raw, &t); err != nil {
		return t, false, fmt.Errorf("%s%s/%s: %w", v.prefix, table, key, err)
	}
	return t, true, nil
}

// Put stores val (a value, not a pointer) under key.
func (v *View) Put(table, key string, val any) {
	v.set(docKey{table, key}, &doc{val: val, dirty: true, hot: true})
}

func (v *View) Delete(table, key string) { v.set(docKey{table, key}, &doc{dirty: true, deleted: true}) }

// list is the items appended to one owner's list in one batch.
type list struct {
	key   string
	items []any
}

// Append adds item to a list the projection never reads back (an index):
// each batch files an owner's new items in one document, keyed by the
// owner and the position of the first, so that reading the documents of
// an owner in key order gives the items in log order.
func (v *View) Append(table, owner string, pos uint64, item any) {
	k := docKey{table, owner}
	if l, ok := v.lists[k]; ok {
		l.items = append(l.items, item)
		return
	}
	if v.lists == nil {
		v.lists = map[docKey]*list{}
	}
	v.lists[k] = &list{key: fmt.Sprintf("%s/%020d", owner, pos), items: []any{item}}
}

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

// batch adds the documents written since the last batch to b.
func (v *View) batch(b *Batch) error {
	for _, k := range v.dirty {
		d := v.docs[k]
		if d.deleted {
			b.Deletes = append(b.Deletes, KV{NS: v.prefix + k.table, Key: k.key})
			continue
		}
		raw, err := json.Marshal(d.val)
		if err != nil {
			return fmt.Errorf("%s%s/%s: %w", v.prefix, k.table, k.key, err)
		}
		b.Puts = append(b.Puts, KV{NS: v.prefix + k.table, Key: k.key, Doc: raw})
	}
	for k, l := range v.lists {
		raw, err := json.Marshal(l.items)
		if err != nil {
			return fmt.Errorf("%s%s/%s: %w", v.prefix, k.table, l.key, err)
		}
		b.Puts = append(b.Puts, KV{NS: v.prefix + k.table, Key: l.key, Doc: raw})
	}
	return nil
}

// lister is a projection that keeps lists (View.Append) in the tables it
// names.
type lister interface{ Lists() []string }

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
	return e.step(ctx, []*runner{r}, recs, evs)
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

// target is a runner applying a batch: into its live generation, or into
// the next one while a rebuild builds it under its own checkpoint.
type target struct {
	r          *runner
	gen        int
	from       uint64 // the position it has applied
	checkpoint string
	live       bool // the checkpoint is the projection's own: advance it and wake waiters
	v          *View
	last       uint64
}

// step applies a batch to every runner given (held in the engine's order)
// and writes all their documents and checkpoints in one transaction. A
// projection that fails is left out, stopped where it was; the others go on.
func (e *Engine) step(ctx context.Context, rs []*runner, recs []eventstore.Record, evs []domain.Event) error {
	for _, r := range rs {
		r.mu.Lock()
		defer r.mu.Unlock()
	}
	ts := make([]*target, len(rs))
	for i, r := range rs {
		ts[i] = &target{r: r, gen: r.gen, from: r.pos.Load(), checkpoint: r.p.Name(), live: true}
	}
	if err := e.write(ctx, ts, recs, evs); err != nil {
		return err
	}
	var errs []error
	for _, t := range ts {
		if p := t.r.failed.Load(); p != nil {
			errs = append(errs, *p)
		}
	}
	return errors.Join(errs...)
}

// write applies a batch to targets and commits what they wrote in one
// transaction. A target whose projection fails is marked failed and left
// out; a failed write fails them all, and their caches are dropped.
func (e *Engine) write(ctx context.Context, ts []*target, recs []eventstore.Record, evs []domain.Event) error {
	var b Batch
	var done []*target
	for _, t := range ts {
		r := t.r
		if r.cache == nil || len(r.cache) > cacheSize {
			r.cache, r.complete = map[docKey]*doc{}, false
		}
		t.v = newView(ctx, e.store, r.p.Name(), t.gen, r.cache)
		t.v.complete = r.complete
		err := t.apply(recs, evs)
		if err == nil && t.last > 0 {
			err = t.v.batch(&b)
		}
		if err != nil {
			r.cache = nil // it holds what was not written
			err = fmt.Errorf("projection %s: %w", r.p.Name(), err)
			r.failed.Store(&err)
			continue
		}
		if t.last > 0 {
			b.Checkpoints = append(b.Checkpoints, Checkpoint{Name: t.checkpoint, Generation: t.gen, Position: t.last})
			done = append(done, t)
		}
		if t.live {
			r.failed.Store(nil)
		}
	}
	if len(done) == 0 {
		return nil
	}
	if err := e.store.Write(ctx, b); err != nil {
		for _, t := range done {
			t.r.cache = nil
		}
		return err
	}
	for _, t := range done {
		t.committed()
	}
	return nil
}

func (t *target) apply(recs []eventstore.Record, evs []domain.Event) error {
	for i, rec := range recs {
		if rec.Position <= t.from {
			continue
		}
		if err := t.r.p.Apply(t.v, rec, evs[i]); err != nil {
			return fmt.Errorf("event %d (%s): %w", rec.Position, rec.Type, err)
		}
		t.last = rec.Position
	}
	return nil
}

// committed keeps what the cache may serve next and moves the checkpoint.
func (t *target) committed() {
	r, v := t.r, t.v
	r.tablesMu.Lock()
	if r.tables == nil {
		r.tables = map[string]bool{}
	}
	for _, k := range v.dirty {
		r.tables[k.table] = true
	}
	for k := range v.lists {
		r.tables[k.table] = true
	}
	r.tablesMu.Unlock()
	v.lists = nil
	for _, k := range v.dirty {
		if d := v.docs[k]; d.deleted || d.once {
			delete(v.docs, k)
		} else {
			d.dirty = false
		}
	}
	if t.live {
		r.pos.Store(t.last)
		r.waitMu.Lock()
		close(r.changed)
		r.changed = make(chan struct{})
		r.waitMu.Unlock()
	}
}

// CatchUp reads the log from the slowest projection's position to the head
// in large batches, each applied to every projection and written in one
// transaction.
func (e *Engine) CatchUp(ctx context.Context) error {
	for {
		n, err := e.next(ctx, e.all(), 5000)
		if err != nil || n == 0 {
			return err
		}
	}
}

// next reads up to limit events after the slowest of rs and steps them all
// through the batch; n is how many it read.
func (e *Engine) next(ctx context.Context, rs []*runner, limit int) (n int, err error) {
	if len(rs) == 0 {
		return 0, nil
	}
	from := rs[0].pos.Load()
	for _, r := range rs[1:] {
		from = min(from, r.pos.Load())
	}
	recs, err := e.log.ReadAll(ctx, from, limit)
	if err != nil || len(recs) == 0 {
		return 0, err
	}
	evs, err := decodeAll(recs)
	if err != nil {
		return 0, err
	}
	return len(recs), e.step(ctx, rs, recs, evs)
}

// all is every runner in the engine's order, the order batches lock them in.
func (e *Engine) all() []*runner {
	rs := make([]*runner, len(e.names))
	for i, name := range e.names {
		rs[i] = e.runners[name]
	}
	return rs
}

// gather is the least time between two batches of the live feed.
const gather = 10 * time.Millisecond

// Follow applies what the log holds past the views each time wake fires,
// in batches written in one transaction for every projection, until ctx
// ends. It also looks once a second, in case a wake-up went missing, and
// retries a projection that failed on its own then, so that one view that
// cannot take an event does not hold the others back.
func (e *Engine) Follow(ctx context.Context, wake <-chan struct{}, logger *slog.Logger) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var last time.Time // when a batch was last applied
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-tick.C:
			for _, name := range e.names {
				if e.Err(name) == nil {
					continue
				}
				head, err := e.log.Head(ctx)
				if err == nil {
					err = e.catchUpOne(ctx, name, head)
				}
				if err != nil && ctx.Err() == nil {
					logger.Warn("a view is stopped (视图已停止)", "projection", name, "error", err)
				}
			}
		}
		// Under load, events gather for a moment: one transaction for
		// many events writes each page of the views once, not once each.
		if wait := time.Until(last.Add(gather)); wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
		for {
			var healthy []*runner
			for _, r := range e.all() {
				if r.failed.Load() == nil {
					healthy = append(healthy, r)
				}
			}
			n, err := e.next(ctx, healthy, 5000)
			if n > 0 {
				last = time.Now()
			}
			if err != nil && ctx.Err() == nil {
				logger.Warn("the views could not take the next events", "error", err)
			}
			if err != nil || n == 0 {
				break
			}
		}
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
	var ts []*target
	for _, name := range e.names { // the engine's order, which batches lock in
		if !slices.Contains(names, name) {
			continue
		}
		r := e.runners[name]
		r.mu.Lock()
		gen := r.gen + 1
		r.mu.Unlock()
		fresh := &runner{p: r.p, cache: map[docKey]*doc{}, complete: true} // a new generation starts empty
		ts = append(ts, &target{r: fresh, gen: gen, checkpoint: fmt.Sprintf("%s#%d", name, gen)})
	}
	for _, name := range names {
		if _, ok := e.runners[name]; !ok {
			return fmt.Errorf("no projection %q", name)
		}
	}
	head, err := e.log.Head(ctx)
	if err != nil {
		return err
	}
	b := &bulk{e: e, ts: ts}
	b.open(ctx)
	// Catch up without holding up the live views: reading and decoding run
	// ahead of applying, on goroutines of their own.
	pos, err := b.run(ctx, 0, head, progress)
	if err != nil {
		return err
	}
	for _, t := range ts { // the last events, with the live views held still
		live := e.runners[t.r.p.Name()]
		live.mu.Lock()
		defer live.mu.Unlock()
	}
	if pos, err = b.run(ctx, pos, 0, progress); err != nil {
		return err
	}
	if err := b.flush(ctx); err != nil {
		return err
	}
	if err := b.wait(); err != nil {
		return err
	}
	for _, t := range ts {
		name := t.r.p.Name()
		live := e.runners[name]
		at := max(pos, live.pos.Load()) // an empty tail leaves it where the live view is
		if reset {
			at = pos
		}
		b := Batch{
			Drops:       []string{fmt.Sprintf("%s/%d/", name, live.gen)},
			Checkpoints: []Checkpoint{{Name: name, Generation: t.gen, Position: at}, {Name: t.checkpoint, Generation: t.gen, Position: 0}},
		}
		if err := e.store.Write(ctx, b); err != nil {
			return err
		}
		live.gen, live.cache, live.complete = t.gen, t.r.cache, t.r.complete
		live.pos.Store(at)
		live.tablesMu.Lock()
		for tb := range t.r.tables {
			if live.tables == nil {
				live.tables = map[string]bool{}
			}
			live.tables[tb] = true
		}
		live.tablesMu.Unlock()
	}
	return nil
}

// bulk applies the log to fresh generations in memory and writes them in
// large transactions, each document once per transaction and in key order,
// on a goroutine of its own while the next events are applied.
type bulk struct {
	e       *Engine
	ts      []*target
	dirty   int
	writing chan error // the write under way, if any
}

// flushAt is how many documents a rebuild gathers before it writes them.
const flushAt = 50_000

// open starts a new batch of documents for each projection. Documents that
// were neither read nor written since the last batch give up their value,
// which is stored: the cache still knows every document there is, and
// reads back only those it needs again.
func (b *bulk) open(ctx context.Context) {
	for _, t := range b.ts {
		for _, d := range t.r.cache {
			if !d.hot && !d.stored && !d.dirty {
				d.val, d.stored = nil, true
			}
			d.hot = false
		}
		t.v = newView(ctx, b.e.store, t.r.p.Name(), t.gen, t.r.cache)
		t.v.complete = t.r.complete
	}
}

// wait returns once the write under way, if any, is done.
func (b *bulk) wait() error {
	if b.writing == nil {
		return nil
	}
	err := <-b.writing
	b.writing = nil
	if err != nil {
		return fmt.Errorf("rebuild: %w", err)
	}
	return nil
}

type decoded struct {
	recs []eventstore.Record
	evs  []domain.Event
	err  error
}

// run applies the events after from, up to to (0: as far as the log goes).
func (b *bulk) run(ctx context.Context, from, to uint64, progress func(pos, head uint64)) (uint64, error) {
	rctx, cancel := context.WithCancel(ctx) // the readers' own: writes outlive this run
	defer cancel()
	read := make(chan decoded, 1)
	go func() {
		defer close(read)
		for pos := from; to == 0 || pos < to; {
			recs, err := b.e.log.ReadAll(rctx, pos, 10000)
			if err != nil || len(recs) == 0 {
				if err != nil {
					read <- decoded{err: err}
				}
				return
			}
			pos = recs[len(recs)-1].Position
			select {
			case read <- decoded{recs: recs}:
			case <-rctx.Done():
				return
			}
		}
	}()
	batches := make(chan decoded, 1)
	go func() {
		defer close(batches)
		for d := range read {
			if d.err == nil {
				d.evs, d.err = decodeAll(d.recs)
			}
			select {
			case batches <- d:
			case <-rctx.Done():
				return
			}
		}
	}()
	pos := from
	for d := range batches {
		if d.err != nil {
			return pos, fmt.Errorf("rebuild: %w", d.err)
		}
		for _, t := range b.ts {
			before := len(t.v.dirty) + len(t.v.lists)
			if err := t.apply(d.recs, d.evs); err != nil {
				return pos, fmt.Errorf("rebuild %s: %w", t.r.p.Name(), err)
			}
			t.from = t.last
			b.dirty += len(t.v.dirty) + len(t.v.lists) - before
		}
		pos = d.recs[len(d.recs)-1].Position
		if b.dirty >= flushAt {
			if err := b.flush(ctx); err != nil {
				return pos, err
			}
		}
		if progress != nil {
			progress(pos, max(to, pos))
		}
	}
	return pos, nil
}

// flush starts writing every document gathered, sorted, in one
// transaction, once the write before it is done. Only what that earlier
// write stored is let go of by open.
func (b *bulk) flush(ctx context.Context) error {
	if err := b.wait(); err != nil {
		return err
	}
	var batch Batch
	var done []*target
	for _, t := range b.ts {
		if t.last == 0 {
			continue
		}
		if err := t.v.batch(&batch); err != nil {
			return fmt.Errorf("rebuild %s: %w", t.r.p.Name(), err)
		}
		batch.Checkpoints = append(batch.Checkpoints, Checkpoint{Name: t.checkpoint, Generation: t.gen, Position: t.last})
		done = append(done, t)
	}
	slices.SortFunc(batch.Puts, func(a, b KV) int { return cmp.Or(strings.Compare(a.NS, b.NS), strings.Compare(a.Key, b.Key)) })
	for _, t := range done {
		t.committed()
	}
	b.dirty = 0
	b.open(ctx)
	b.writing = make(chan error, 1)
	go func() { b.writing <- b.e.store.Write(ctx, batch) }()
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
// "table/key": to compare two engines' views of the same log. A list
// (Append) reads as one document per owner, however batches split it.
func (e *Engine) Dump(ctx context.Context, name string, tables []string) (map[string]string, error) {
	r, ok := e.runners[name]
	if !ok {
		return nil, fmt.Errorf("no projection %q", name)
	}
	out := map[string]string{}
	for _, table := range tables {
		kvs, err := e.store.Scan(ctx, e.NS(name, table), "", "")
		if err != nil {
			return nil, err
		}
		isList := false
		if l, ok := r.p.(lister); ok {
			isList = slices.Contains(l.Lists(), table)
		}
		for _, kv := range kvs {
			if !isList {
				out[table+"/"+kv.Key] = string(kv.Doc)
				continue
			}
			owner := table + "/" + kv.Key[:strings.LastIndexByte(kv.Key, '/')]
			items := strings.TrimSuffix(strings.TrimPrefix(string(kv.Doc), "["), "]")
			if held, ok := out[owner]; ok {
				items = held + "," + items
			}
			out[owner] = items
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
