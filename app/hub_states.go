package app

// SessionsByState counts the sessions live on this instance by state.
func (h *Hub) SessionsByState() map[string]int {
	h.mu.Lock()
	all := make([]*liveSession, 0, len(h.live))
	for _, ls := range h.live {
		all = append(all, ls)
	}
	h.mu.Unlock()
	out := map[string]int{}
	for _, ls := range all {
		ls.mu.Lock()
		st := ls.state
		ls.mu.Unlock()
		out[string(st)]++
	}
	return out
}
