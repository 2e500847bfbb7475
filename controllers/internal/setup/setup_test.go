package setup

import (
	"testing"
	"time"
)

func TestOffsetClockRunsAhead(t *testing.T) {
	c := OffsetClock{Offset: 48 * time.Hour}
	if ahead := time.Until(c.Now()); ahead < 47*time.Hour || ahead > 49*time.Hour {
		t.Fatalf("Now is %s ahead, want 48h", ahead)
	}
	if since := c.Since(time.Now()); since < 47*time.Hour {
		t.Fatalf("Since(now) = %s, want about 48h", since)
	}
	o := Options{}.WithDefaults()
	if o.Clock == nil || o.TokenClock == nil {
		t.Fatal("WithDefaults left a clock nil")
	}
}
