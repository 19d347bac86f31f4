package domain

import "testing"

// The tables answer exactly the names they were filled with, and nothing
// else: not a prefix, not a name with another byte in the middle.
func TestKeyTablesMatchTheirMaps(t *testing.T) {
	for k, slot := range contentKeys {
		if got, ok := contentSlots.get([]byte(k)); !ok || got != slot {
			t.Fatalf("content key %q: slot %d %v, want %d", k, got, ok, slot)
		}
	}
	for name, tr := range typedRules {
		if got, ok := typedRuleTable.get([]byte(name)); !ok || got != tr {
			t.Fatalf("type %q: rule %p %v, want %p", name, got, ok, tr)
		}
	}
	for _, k := range []string{"", "t", "tex", "texx", "teXt", "text ", "turn_i", "turn_idd", "update_", "Update", "usage.updatex"} {
		_, inC := contentKeys[k]
		_, inR := typedRules[k]
		if _, ok := contentSlots.get([]byte(k)); ok != inC {
			t.Fatalf("content key %q found %v, want %v", k, ok, inC)
		}
		if _, ok := typedRuleTable.get([]byte(k)); ok != inR {
			t.Fatalf("type %q found %v, want %v", k, ok, inR)
		}
	}
}
