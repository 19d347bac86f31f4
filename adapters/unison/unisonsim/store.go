package unisonsim

import (
	"encoding/json"
	"sort"
	"strings"
	"sync"
	"time"
)

// keepVersions is how many past versions of a key the versions route returns.
const keepVersions = 10

type entry struct {
	Namespace string          `json:"namespace"`
	Key       string          `json:"key"`
	Value     json.RawMessage `json:"value"`
	Version   int64           `json:"version"`
	UpdatedBy string          `json:"updatedBy"`
	UpdatedAt int64           `json:"updatedAt"`
	ExpiresAt *int64          `json:"expiresAt"`
}

// slot is one key. It outlives a delete so that a recreated key continues
// the version sequence: a compare-and-set holding a version from before the
// delete can then never match the new incarnation.
type slot struct {
	live    bool
	version int64
	history []entry // oldest first; the last one is current while live
}

type op struct {
	del   bool
	ns    string
	key   string
	value json.RawMessage
	cas   *int64
}

// opError says why a write was refused; index is the failing operation.
type opError struct {
	index   int
	missing bool  // the key does not exist
	current int64 // otherwise: the CAS failed against this version (0: absent)
}

func (e *opError) Error() string {
	if e.missing {
		return "key not found"
	}
	return "version mismatch"
}

type store struct {
	mu   sync.Mutex
	now  func() time.Time
	data map[string]map[string]*slot
}

func newStore(now func() time.Time) *store {
	return &store{now: now, data: map[string]map[string]*slot{}}
}

func (s *store) get(ns, key string) (entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sl := s.data[ns][key]
	if sl == nil || !sl.live {
		return entry{}, false
	}
	return sl.history[len(sl.history)-1], true
}

// versions returns the kept versions of a live key, newest first.
func (s *store) versions(ns, key string) ([]entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sl := s.data[ns][key]
	if sl == nil || !sl.live {
		return nil, false
	}
	out := make([]entry, len(sl.history))
	for i, e := range sl.history {
		out[len(out)-1-i] = e
	}
	return out, true
}

// list returns up to limit live entries with the prefix and a key after
// `after`, in key order, and whether more follow.
func (s *store) list(ns, prefix, after string, limit int) ([]entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.data[ns]))
	for k, sl := range s.data[ns] {
		if sl.live && strings.HasPrefix(k, prefix) && k > after {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	more := len(keys) > limit
	if more {
		keys = keys[:limit]
	}
	out := make([]entry, len(keys))
	for i, k := range keys {
		sl := s.data[ns][k]
		out[i] = sl.history[len(sl.history)-1]
	}
	return out, more
}

// apply runs ops atomically: every check is made against the state the
// earlier ops of the same call leave behind, and nothing is written unless
// all pass. It returns the new entry of each set (nil for a delete).
func (s *store) apply(ops []op, actor string) ([]*entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	type state struct {
		live    bool
		version int64
	}
	type ref struct{ ns, key string }
	staged := map[ref]state{}
	for i, o := range ops {
		r := ref{o.ns, o.key}
		st, seen := staged[r]
		if !seen {
			if sl := s.data[o.ns][o.key]; sl != nil {
				st = state{sl.live, sl.version}
			}
		}
		current := int64(0)
		if st.live {
			current = st.version
		}
		// Deleting what is not there is "not found" whatever the cas said.
		if o.del && !st.live {
			return nil, &opError{index: i, missing: true}
		}
		if o.cas != nil && *o.cas != current {
			return nil, &opError{index: i, current: current}
		}
		if o.del {
			st.live = false
		} else {
			st = state{live: true, version: st.version + 1}
		}
		staged[r] = st
	}

	now := s.now().UnixMilli()
	out := make([]*entry, len(ops))
	for i, o := range ops {
		byKey := s.data[o.ns]
		if byKey == nil {
			byKey = map[string]*slot{}
			s.data[o.ns] = byKey
		}
		sl := byKey[o.key]
		if sl == nil {
			sl = &slot{}
			byKey[o.key] = sl
		}
		if o.del {
			sl.live = false
			sl.history = nil
			continue
		}
		sl.live = true
		sl.version++
		e := entry{Namespace: o.ns, Key: o.key, Value: o.value, Version: sl.version, UpdatedBy: actor, UpdatedAt: now}
		sl.history = append(sl.history, e)
		if len(sl.history) > keepVersions {
			sl.history = append([]entry(nil), sl.history[len(sl.history)-keepVersions:]...)
		}
		out[i] = &e
	}
	return out, nil
}
