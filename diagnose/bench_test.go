package diagnose

import (
	"os"
	"testing"

	"github.com/why-denied/why-denied/evidence"
)

// BenchmarkDiagnose measures a whole diagnosis (evaluation, settling,
// near misses, fixes searched and verified) on the seed case and on
// evidence the size of large accounts: a role with 20 identity policies,
// and a user in 10 groups. The evidence file is read once, outside the
// loop.
func BenchmarkDiagnose(b *testing.B) {
	for _, c := range []struct{ name, file string }{
		{"seed", "../fixtures/sam-qualified-invoke.json"},
		{"role-20-policies", "../fixtures/scale-role-20-policies.json"},
		{"user-10-groups", "../fixtures/scale-user-10-groups.json"},
	} {
		b.Run(c.name, func(b *testing.B) {
			f, err := os.Open(c.file)
			if err != nil {
				b.Fatal(err)
			}
			ev, err := evidence.Read(f)
			f.Close()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Diagnose(ev, testOptions); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
