package main

import (
	"cmp"
	"slices"
)

// longestChain returns the longest sequence of calls in which each call
// starts after the previous one ended: the longest path in the interval
// order of the calls' [Start, End] intervals. Its length is the number of
// round trips a run could not overlap, whatever the latency; each costs at
// least the proxy's delay. Ties go to the chain that ends first.
func longestChain(calls []call) []call {
	if len(calls) == 0 {
		return nil
	}
	sorted := slices.Clone(calls)
	slices.SortStableFunc(sorted, func(a, b call) int { return cmp.Compare(a.Start, b.Start) })

	// length[i] is the longest chain ending with sorted[i]; prev[i] is the
	// call before it in that chain, -1 if none. A predecessor starts
	// before sorted[i] does, so it comes earlier in start order.
	length := make([]int, len(sorted))
	prev := make([]int, len(sorted))
	best := 0
	for i, c := range sorted {
		length[i], prev[i] = 1, -1
		for j := range i {
			if sorted[j].End <= c.Start && length[j]+1 > length[i] {
				length[i], prev[i] = length[j]+1, j
			}
		}
		if length[i] > length[best] || (length[i] == length[best] && c.End < sorted[best].End) {
			best = i
		}
	}
	chain := make([]call, length[best])
	for i, k := best, len(chain)-1; i >= 0; i, k = prev[i], k-1 {
		chain[k] = sorted[i]
	}
	return chain
}
