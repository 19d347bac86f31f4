package wire

import "testing"

// The tracker the tools' verdicts rest on: in-order events pass, a gap
// counts every event skipped, a repeat counts once per repeated event, and
// a fresh start at a snapshot resets the cursor.
func TestTrackCountsGapsAndRepeats(t *testing.T) {
	var tr Track
	tr.Start("e1", 10)
	for _, s := range []uint64{11, 12, 15, 15, 14, 16} {
		tr.See(s, "text_delta")
	}
	if tr.Events != 6 || tr.Lost != 2 || tr.Dup != 2 || tr.Last != 16 {
		t.Fatalf("events %d lost %d dup %d last %d, want 6 2 2 16; %q", tr.Events, tr.Lost, tr.Dup, tr.Last, tr.Bad)
	}
	if len(tr.Bad) != 3 {
		t.Fatalf("problems %q, want 3", tr.Bad)
	}
	tr.Start("e1", 20)
	tr.See(21, "turn_complete")
	if tr.Lost != 2 || tr.Last != 21 {
		t.Fatalf("after a fresh start: lost %d last %d", tr.Lost, tr.Last)
	}
}
