package jobs

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/pgtest"
	"github.com/passport-idp/passport/internal/postgres"
)

// TestTwoImportersRunEachImportOnce: two replicas' importers run at once over six queued
// imports; each import is run by exactly one of them, once (SKIP LOCKED and the lease).
func TestTwoImportersRunEachImportOnce(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	o := &passport.Organisation{Alias: fmt.Sprintf("imp-jobs-%d", time.Now().UnixNano()%1e9), Name: "Imports"}
	if err := db.CreateOrg(ctx, o); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for i := range 6 {
		imp := &postgres.Import{OrgID: o.ID, FileName: fmt.Sprintf("%d.csv", i), Total: 1, Actor: postgres.ImportActor{Kind: passport.ActorSystem}}
		if err := db.CreateImport(ctx, imp, []byte("login\nx\n")); err != nil {
			t.Fatal(err)
		}
		ids[imp.ID] = true
	}
	var mu sync.Mutex
	runs := map[string]int{}
	run := func(ctx context.Context, id string, attempt int) error {
		mu.Lock()
		runs[id]++
		mu.Unlock()
		time.Sleep(20 * time.Millisecond) // the other importer claims meanwhile
		return db.FinishImport(ctx, id, attempt, postgres.ImportProgress{Processed: 1, Created: 1}, "")
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var wg sync.WaitGroup
	total := make([]int, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := (&Importer{DB: db, Run: run, Log: log}).RunDue(ctx)
			if err != nil {
				t.Error(err)
			}
			total[i] = n
		}()
	}
	wg.Wait()
	if total[0]+total[1] != 6 || len(runs) != 6 {
		t.Errorf("ran %v (%d distinct), want 6 imports", total, len(runs))
	}
	for id, n := range runs {
		if n != 1 || !ids[id] {
			t.Errorf("import %s ran %d times", id, n)
		}
	}
	if c, err := db.ClaimImport(ctx); c != nil || err != nil {
		t.Errorf("a finished import was claimed: %+v, %v", c, err)
	}
}
