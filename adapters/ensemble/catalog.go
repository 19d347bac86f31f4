package ensemble

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/diminuendo/diminuendo/adapters/upstream"
	"github.com/diminuendo/diminuendo/domain"
)

// listModels asks Ensemble's documented catalog route; its body is our
// assumption (docs/upstreams.md).
var listModels = upstream.Request{Method: http.MethodGet, Path: []string{"api", "v1", "models"}}

type wireModel struct {
	ID           string `json:"id"`
	Provider     string `json:"provider"`
	Capabilities struct {
		Streaming bool `json:"streaming"`
		Tools     bool `json:"tools"`
	} `json:"capabilities"`
	ContextWindow int `json:"context_window"`
	Pricing       struct {
		InputPerMTok  float64 `json:"input_per_mtok"`
		OutputPerMTok float64 `json:"output_per_mtok"`
	} `json:"pricing"`
}

var errNoModels = errors.New(`ensemble answered without a "models" list`)

// Models answers from the cache. An empty cache is filled first; callers
// meeting a cold cache together wait for one fetch between them.
func (a *Adapter) Models(ctx context.Context) ([]domain.Model, error) {
	if ms, ok := a.cached(); ok {
		return ms, nil
	}
	if err := a.acquire(ctx); err != nil {
		return nil, err
	}
	defer a.release()
	if ms, ok := a.cached(); ok {
		return ms, nil // filled while we waited
	}
	ms, err := a.fetch(ctx)
	if err != nil {
		if ms, ok := a.warm(); ok {
			return ms, nil
		}
		return nil, a.toDomain(err)
	}
	a.store(ms)
	a.persist(ms)
	return slices.Clone(ms), nil
}

// Refresh fetches the catalog now. On failure the last good catalog stays
// in place and keeps being served: a stale list of models is far more
// useful to a client than none, and models change rarely.
func (a *Adapter) Refresh(ctx context.Context) error {
	if err := a.acquire(ctx); err != nil {
		return err
	}
	defer a.release()
	ms, err := a.fetch(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.mu.RLock()
			loaded, at := a.loaded, a.fetchedAt
			a.mu.RUnlock()
			if !loaded {
				_, loaded = a.warm()
			}
			if loaded {
				a.log.Warn("ensemble catalog refresh failed; serving the last good catalog", "error", err.Error(), "age", time.Since(at).Round(time.Second))
			} else {
				a.log.Warn("ensemble catalog refresh failed; no catalog yet", "error", err.Error())
			}
		}
		return a.toDomain(err)
	}
	a.store(ms)
	a.persist(ms)
	return nil
}

// Start refreshes the catalog now and then every RefreshInterval until Stop
// or ctx ends. Calling it while running does nothing.
func (a *Adapter) Start(ctx context.Context) {
	a.runMu.Lock()
	defer a.runMu.Unlock()
	if a.cancel != nil {
		return
	}
	ctx, a.cancel = context.WithCancel(ctx)
	a.done = make(chan struct{})
	go a.run(ctx, a.done)
}

// Stop ends the background refresh and waits for one in flight to end.
func (a *Adapter) Stop() {
	a.runMu.Lock()
	cancel, done := a.cancel, a.done
	a.cancel, a.done = nil, nil
	a.runMu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

func (a *Adapter) run(ctx context.Context, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(a.cfg.RefreshInterval)
	defer t.Stop()
	for {
		_ = a.Refresh(ctx) // failures are logged; the cache stays
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (a *Adapter) acquire(ctx context.Context) error {
	select {
	case a.fetching <- struct{}{}:
		return nil
	case <-ctx.Done():
		return domain.ErrUpstream("ensemble", ctx.Err())
	}
}

func (a *Adapter) release() { <-a.fetching }

func (a *Adapter) cached() ([]domain.Model, bool) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if !a.loaded {
		return nil, false
	}
	return slices.Clone(a.models), true
}

func (a *Adapter) store(ms []domain.Model) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.models, a.loaded, a.fetchedAt = ms, true, time.Now()
}

// fetch reads the catalog. Entries without an id are dropped, and a
// repeated id keeps its first entry, so the port's one-entry-per-id
// promise holds whatever Ensemble sends.
func (a *Adapter) fetch(ctx context.Context) ([]domain.Model, error) {
	type catalog struct {
		Models *[]wireModel `json:"models"`
	}
	// Every call is a read, so every one may be retried.
	out, err := upstream.Call(ctx, a.up, true, func(ctx context.Context) (catalog, error) {
		var out catalog
		err := a.up.SendJSON(ctx, listModels, &out)
		if err == nil && out.Models == nil {
			err = errNoModels
		}
		return out, err
	})
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(*out.Models))
	ms := make([]domain.Model, 0, len(*out.Models))
	dropped := 0
	for _, w := range *out.Models {
		if w.ID == "" || seen[w.ID] {
			dropped++
			continue
		}
		seen[w.ID] = true
		ms = append(ms, domain.Model{
			ID: w.ID, Provider: w.Provider,
			Streaming: w.Capabilities.Streaming, Tools: w.Capabilities.Tools,
			ContextWindow:      w.ContextWindow,
			InputPricePerMTok:  w.Pricing.InputPerMTok,
			OutputPricePerMTok: w.Pricing.OutputPerMTok,
		})
	}
	if dropped > 0 {
		a.log.Warn("ensemble catalog had entries without an id or with a repeated one", "dropped", dropped)
	}
	slices.SortFunc(ms, func(x, y domain.Model) int { return cmp.Compare(x.ID, y.ID) })
	return ms, nil
}
