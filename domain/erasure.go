package domain

import "time"

// ResidentErased records that a person's details were erased at their
// request (PIPL art. 47; stream "erasure-{ref}"): their sealing keys are
// destroyed, and the views forget the masked forms. Every other event,
// and so every statistic, stays.
type ResidentErased struct {
	Ref string    `json:"Ref"`
	By  string    `json:"By"`
	At  time.Time `json:"At"`
}

// Erasure is one person's erasure.
type Erasure struct{ Erased bool }

func (x *Erasure) Apply(e Event) {
	if _, ok := e.(ResidentErased); ok {
		x.Erased = true
	}
}

// Erase records the erasure of ref, once.
func (x *Erasure) Erase(ref, by string, at time.Time) ([]Event, error) {
	if x.Erased {
		return nil, nil
	}
	return []Event{ResidentErased{ref, by, at}}, nil
}

// Forget is a person as views keep them after their erasure: the
// reference alone.
func (p Person) Forget() Person { return Person{Ref: p.Ref} }

// Erased says whether the person's details were erased.
func (p Person) Erased() bool { return p.Name == "" && p.ID == "" && p.Phone == "" }

func init() {
	register(map[string]Event{"ResidentErased": ResidentErased{}})
}
