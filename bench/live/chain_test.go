package main

import (
	"slices"
	"testing"
)

func TestLongestChain(t *testing.T) {
	at := func(op string, start, end int64) call {
		return call{Service: "x", Operation: op, Start: start, End: end}
	}
	tests := []struct {
		name  string
		calls []call
		want  []string
	}{
		{"none", nil, nil},
		{"one", []call{at("A", 0, 10)}, []string{"A"}},
		{"all concurrent", []call{at("A", 0, 10), at("B", 1, 11), at("C", 2, 12)}, []string{"A"}},
		{"strictly sequential", []call{at("C", 20, 30), at("A", 0, 10), at("B", 10, 20)}, []string{"A", "B", "C"}},
		{
			// A fan-out: B and C follow A concurrently, D follows C only;
			// E overlaps everything.
			"fan-out",
			[]call{at("A", 0, 10), at("B", 11, 20), at("C", 11, 25), at("D", 26, 30), at("E", 5, 28)},
			[]string{"A", "B", "D"},
		},
		{
			// The longest path, not a greedy one: B is the first call to
			// start after A ends, but it is long; C, D and F follow each
			// other while B runs.
			"longest not greedy",
			[]call{at("A", 0, 10), at("B", 11, 50), at("C", 12, 13), at("D", 14, 15), at("F", 16, 17)},
			[]string{"A", "C", "D", "F"},
		},
		{"overlap by one", []call{at("A", 0, 10), at("B", 9, 20)}, []string{"A"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, c := range longestChain(tt.calls) {
				got = append(got, c.Operation)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("longestChain = %v, want %v", got, tt.want)
			}
		})
	}
}
