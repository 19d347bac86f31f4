package domain

import (
	"testing"
)

// sameFrame says two typedFrames hold the same reading.
func sameFrame(a, b *typedFrame) bool {
	if a.top != b.top || a.hasContent != b.hasContent || a.present != b.present {
		return false
	}
	for k := range a.content {
		if a.present&(1<<k) != 0 && a.content[k] != b.content[k] {
			return false
		}
	}
	return true
}

// shapeAgrees checks that a frame read through the shape of a is read as
// readTyped reads it: the shape may decline b, but what it accepts,
// readTyped accepts with the same reading.
func shapeAgrees(t *testing.T, a, b []byte) {
	t.Helper()
	var (
		s   frameShape
		rec shapeRecorder
		tf  typedFrame
	)
	if !readTyped(a, &tf, &rec) {
		return
	}
	if s.record(a, &rec); !s.valid {
		return
	}
	var viaShape, direct typedFrame
	if !s.read(b, &viaShape) {
		return
	}
	if !readTyped(b, &direct, nil) {
		t.Fatalf("shape of %s accepts %s, which readTyped refuses", a, b)
	}
	if !sameFrame(&viaShape, &direct) {
		t.Fatalf("shape of %s reads %s as %+v, readTyped as %+v", a, b, viaShape, direct)
	}
}

// Every accepted frame of the corpus read through its own shape, and
// through it with each byte in turn replaced, with bytes added or cut at
// the end, and the next frame of the corpus (which often differs from it
// only in a value).
func TestFrameShapeReadsAsReadTyped(t *testing.T) {
	frames := corpus()
	subs := []byte{'"', '\\', ' ', '0', 'a', '}', ',', 0x01, 0xff}
	taken := 0
	for n, a := range frames {
		if n+1 < len(frames) {
			shapeAgrees(t, a, frames[n+1])
		}
		if n%97 != 0 {
			continue
		}
		var tf typedFrame
		if !readTyped(a, &tf, nil) {
			continue
		}
		taken++
		shapeAgrees(t, a, a)
		shapeAgrees(t, a, append(append([]byte{}, a...), " x"...))
		shapeAgrees(t, a, append(append([]byte{}, a...), " \n"...))
		shapeAgrees(t, a, a[:len(a)-1])
		b := make([]byte, len(a))
		for i := range a {
			for _, c := range subs {
				copy(b, a)
				b[i] = c
				shapeAgrees(t, a, b)
			}
		}
	}
	if taken < 10 {
		t.Fatalf("only %d corpus frames accepted by readTyped", taken)
	}
}

func FuzzFrameShape(f *testing.F) {
	frames := corpus()
	for i := 0; i+1 < len(frames); i += 97 {
		f.Add(frames[i], frames[i])
		f.Add(frames[i], frames[i+1])
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		shapeAgrees(t, a, b)
	})
}
