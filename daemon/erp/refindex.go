package erp

import (
	"encoding/binary"
	"hash/maphash"
)

// refIndex holds every RefNbr seen in a batch file, with the line (CSV) or
// index (JSON) of its first refund, to find a RefNbr given twice. It is
// the one part of reading a file that grows with the file, so it is
// compact, 9 to 18 bytes per refund beside the RefNbrs themselves, with
// no allocation and no pointer for the collector per refund: the RefNbrs
// are kept in a log of records in blocks of bytes, and a hash table with
// open addressing holds, for each, the record's place and 24 more bits of
// its hash. Equal bits are told apart by the RefNbrs' text.
type refIndex struct {
	seed  maphash.Seed
	slots []uint64 // 0 for none, or the hash's top 24 bits << 40 | place+1
	n     int      // slots used
	// log holds the records: the line or index and the length of the
	// RefNbr (uvarints), then the RefNbr. A place is block<<16 | offset:
	// a block holds records up to refLogBlock bytes, or one larger record.
	log [][]byte
}

// The layout of a refIndex.
const (
	refPlaceBits = 40 // the place and the hash's bits in a slot
	refLogBlock  = 64 << 10
	refMinSlots  = 1024
	refMaxSlots  = 1 << 20 // 8 MiB to begin with, for a file of 150 MB or more
	refLineBytes = 160     // a usual line of a batch file, RefNbr and all
)

// newRefIndex returns an empty refIndex for a file of about size bytes
// (0 when not known), sized for a refund per refLineBytes of it, up to
// refMaxSlots to begin with, so that it grows seldom.
func newRefIndex(size int64) *refIndex {
	n := refMinSlots
	for n < refMaxSlots && int64(n)/8*7 < size/refLineBytes {
		n *= 2
	}
	return &refIndex{seed: maphash.MakeSeed(), slots: make([]uint64, n)}
}

// add returns the line or index of the first refund with ref, and true,
// if ref was seen before; otherwise it records ref at at.
func (x *refIndex) add(ref string, at int) (first int, seen bool) {
	return x.addHashed(maphash.String(x.seed, ref), ref, at)
}

// addHashed is add of ref whose hash is h.
func (x *refIndex) addHashed(h uint64, ref string, at int) (first int, seen bool) {
	if x.n >= len(x.slots)/8*7 { // linear probing stays short up to here
		x.grow()
	}
	tag := h >> refPlaceBits
	mask := uint64(len(x.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := x.slots[i]
		if s == 0 {
			x.slots[i] = tag<<refPlaceBits | (x.append(ref, at) + 1)
			x.n++
			return 0, false
		}
		if s>>refPlaceBits == tag {
			if text, at0 := x.record(s&(1<<refPlaceBits-1) - 1); string(text) == ref {
				return at0, true
			}
		}
	}
}

// record returns the RefNbr and the line or index of the record at place.
func (x *refIndex) record(place uint64) ([]byte, int) {
	b := x.log[place>>16][place&(1<<16-1):]
	at, n1 := binary.Uvarint(b)
	size, n2 := binary.Uvarint(b[n1:])
	return b[n1+n2 : n1+n2+int(size)], int(at)
}

// append writes the record of ref at at and returns its place.
func (x *refIndex) append(ref string, at int) uint64 {
	need := 2*binary.MaxVarintLen64 + len(ref)
	last := len(x.log) - 1
	if last < 0 || cap(x.log[last]) != refLogBlock || refLogBlock-len(x.log[last]) < need {
		x.log = append(x.log, make([]byte, 0, max(refLogBlock, need)))
		last++
	}
	b := x.log[last]
	place := uint64(last)<<16 | uint64(len(b))
	b = binary.AppendUvarint(b, uint64(at))
	b = binary.AppendUvarint(b, uint64(len(ref)))
	x.log[last] = append(b, ref...)
	return place
}

// grow doubles the table, hashing the RefNbrs again as they stand in
// the log, in order.
func (x *refIndex) grow() {
	slots := make([]uint64, 2*len(x.slots))
	mask := uint64(len(slots) - 1)
	for blk, b := range x.log {
		for off := 0; off < len(b); {
			_, n1 := binary.Uvarint(b[off:]) // the line
			size, n2 := binary.Uvarint(b[off+n1:])
			text := b[off+n1+n2 : off+n1+n2+int(size)]
			h := maphash.Bytes(x.seed, text)
			i := h & mask
			for slots[i] != 0 {
				i = (i + 1) & mask
			}
			slots[i] = h>>refPlaceBits<<refPlaceBits | (uint64(blk)<<16 | uint64(off)) + 1
			off += n1 + n2 + int(size)
		}
	}
	x.slots = slots
}
