package domain

import "strconv"

// decimal is a number kept with its decimal digits, for the counts every
// typed frame writes that move little from one frame to the next: a
// session's seq is the last one's plus one, and a stream's timestamps (in
// milliseconds) repeat or step by a few. Adding the step to the digits
// touches the last one or two of them, where formatting anew divides out
// all of them.
type decimal struct {
	n      uint64
	digits []byte // n in decimal; empty until the first text
}

// maxDecimalStep bounds the step added digit by digit; a larger one, or a
// step down, formats the number anew.
const maxDecimalStep = 1 << 16

// text returns n in decimal, as strconv.AppendUint writes it. The slice is
// d's own, valid until the next call.
func (d *decimal) text(n uint64) []byte {
	if len(d.digits) == 0 || n < d.n || n-d.n > maxDecimalStep {
		d.n, d.digits = n, strconv.AppendUint(d.digits[:0], n, 10)
		return d.digits
	}
	carry := n - d.n
	d.n = n
	for i := len(d.digits) - 1; i >= 0 && carry > 0; i-- {
		sum := uint64(d.digits[i]-'0') + carry
		d.digits[i], carry = byte('0'+sum%10), sum/10
	}
	if carry > 0 { // more digits than before
		d.digits = append(strconv.AppendUint(nil, carry, 10), d.digits...)
	}
	return d.digits
}
