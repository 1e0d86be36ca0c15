package erp

import "hash/maphash"

// refIndex holds every RefNbr seen in a batch file, with the line (CSV) or
// index (JSON) of its first refund, to find a RefNbr given twice. The
// RefNbrs are kept one after another in blocks of bytes and found by a
// 64-bit hash, so that a file of many refunds costs neither an allocation
// nor a pointer for the collector per refund, nor copies as it grows; a
// hash that two RefNbrs share is told apart by their text.
type refIndex struct {
	seed   maphash.Seed
	byHash map[uint64]int // hash → the last entry with it
	blocks [][]refEntry   // of refBlock entries each
	text   [][]byte       // the RefNbrs, in blocks of at least refText bytes
	n      int            // entries
}

// refEntry is one RefNbr of a refIndex.
type refEntry struct {
	at     int   // line or index of its first refund
	next   int   // the previous entry with the same hash, or -1
	block  int32 // in text
	off, n int32 // of the RefNbr in its block (a RefNbr is a field of one line)
}

// The sizes of the blocks of a refIndex.
const (
	refBlock = 4096
	refText  = 64 << 10
)

func newRefIndex() *refIndex {
	return &refIndex{seed: maphash.MakeSeed(), byHash: make(map[uint64]int)}
}

// add returns the line or index of the first refund with ref, and true,
// if ref was seen before; otherwise it records ref at at.
func (x *refIndex) add(ref string, at int) (first int, seen bool) {
	return x.addHashed(maphash.String(x.seed, ref), ref, at)
}

// addHashed is add of ref whose hash is h.
func (x *refIndex) addHashed(h uint64, ref string, at int) (first int, seen bool) {
	last, ok := x.byHash[h]
	if ok {
		for i := last; i >= 0; {
			e := &x.blocks[i/refBlock][i%refBlock]
			if string(x.text[e.block][e.off:e.off+e.n]) == ref {
				return e.at, true
			}
			i = e.next
		}
	} else {
		last = -1
	}
	if len(x.text) == 0 || cap(x.text[len(x.text)-1])-len(x.text[len(x.text)-1]) < len(ref) {
		x.text = append(x.text, make([]byte, 0, max(refText, len(ref))))
	}
	b := len(x.text) - 1
	e := refEntry{at: at, next: last, block: int32(b), off: int32(len(x.text[b])), n: int32(len(ref))}
	x.text[b] = append(x.text[b], ref...)
	if x.n%refBlock == 0 {
		x.blocks = append(x.blocks, make([]refEntry, 0, refBlock))
	}
	x.blocks[len(x.blocks)-1] = append(x.blocks[len(x.blocks)-1], e)
	x.byHash[h] = x.n
	x.n++
	return 0, false
}
