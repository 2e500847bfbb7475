package apply

import (
	"testing"

	"github.com/imply-operator/imply-operator/controllers/internal/cache"
)

func TestConfigDataMatchesValuesAndTheirDigests(t *testing.T) {
	desired := map[string]string{"a": "1", "b": "2"}
	for _, tc := range []struct {
		live map[string]string
		want bool
	}{
		{map[string]string{"a": "1", "b": "2"}, true},
		{map[string]string{"a": cache.CachedDigest("1"), "b": cache.CachedDigest("2")}, true},
		{map[string]string{"a": cache.CachedDigest("1"), "b": cache.CachedDigest("3")}, false},
		{map[string]string{"a": cache.CachedDigest("1")}, false},
		{map[string]string{"a": cache.CachedDigest("1"), "b": cache.CachedDigest("2"), "extra": cache.CachedDigest("x")}, false},
		{map[string]string{"a": "1", "c": "2"}, false},
	} {
		if got := configDataMatches(desired, tc.live); got != tc.want {
			t.Errorf("configDataMatches(%v, %v) = %v, want %v", desired, tc.live, got, tc.want)
		}
	}
	if !configDataMatches(nil, map[string]string{}) {
		t.Error("no data and empty data differ")
	}
}
