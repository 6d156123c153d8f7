package i18n

import "testing"

func BenchmarkSprintf(b *testing.B) {
	c, _ := Load()
	l := c.For("ru")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = l.Sprintf("Sign in")
	}
}
