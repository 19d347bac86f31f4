package domain

// keyTable maps the few fixed names the per-event path looks up (content
// keys, upstream types) to a value, from the raw bytes of a scanned key: a
// hash of the length and the end bytes, then one string compare, where a
// Go map would hash every byte and convert. Filled at init, read-only
// after.
type keyTable[V any] struct {
	keys [keyTableSize]string
	vals [keyTableSize]V
}

// keyTableSize is a power of two well above the names a table holds, so
// probe runs stay short.
const keyTableSize = 128

func keyHash(n int, first, last byte) uint {
	return (uint(n)*131 + uint(first)*31 + uint(last)*7) & (keyTableSize - 1)
}

// put adds k (not empty, not yet present).
func (t *keyTable[V]) put(k string, v V) {
	for h, n := keyHash(len(k), k[0], k[len(k)-1]), 0; n < keyTableSize; h, n = (h+1)&(keyTableSize-1), n+1 {
		if t.keys[h] == "" {
			t.keys[h], t.vals[h] = k, v
			return
		}
	}
	panic("keyTable is full")
}

// get returns k's value, or the zero value and false.
func (t *keyTable[V]) get(k []byte) (v V, ok bool) {
	if len(k) == 0 {
		return v, false
	}
	for h := keyHash(len(k), k[0], k[len(k)-1]); t.keys[h] != ""; h = (h + 1) & (keyTableSize - 1) {
		if t.keys[h] == string(k) {
			return t.vals[h], true
		}
	}
	return v, false
}
