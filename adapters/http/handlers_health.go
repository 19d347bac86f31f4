package http

import (
	"github.com/diminuendo/diminuendo/api"
	"github.com/diminuendo/diminuendo/app"
)

// instanceHealth fills the instance metrics and budgets of /api/health.
func instanceHealth(out *api.Health, r app.HealthReport) {
	in := r.Instance
	states := func(m map[string]int) map[string]int {
		if m == nil {
			return map[string]int{}
		}
		return m
	}
	out.Instance = api.InstanceMetrics{
		Goroutines: in.Goroutines, HeapBytes: in.HeapBytes, RssBytes: in.RSSBytes,
		EventsInPerSecond: float32(in.EventsInPerSecond), EventsOutPerSecond: float32(in.EventsOutPerSecond),
		ConnectionsByState: states(in.ConnectionsByState), SessionsByState: states(in.SessionsByState),
	}
	for _, b := range in.Budgets {
		ab := api.Budget{Used: b.Used, Limit: b.Limit, Ratio: float32(b.Ratio()), SetBy: b.Var}
		switch b.Name {
		case "connections":
			out.Budgets.Connections = ab
		case "activeSessions":
			out.Budgets.ActiveSessions = ab
		case "memory":
			out.Budgets.Memory = ab
		}
	}
	if len(r.Reasons) > 0 {
		reasons := append([]string(nil), r.Reasons...)
		out.Reasons = &reasons
	}
}
