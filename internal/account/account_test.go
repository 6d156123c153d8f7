package account_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/passport-idp/passport/internal/account"
	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/pgtest"
	"github.com/passport-idp/passport/internal/postgres"
)

var testURL string

func TestMain(m *testing.M) {
	dsn, cleanup, err := pgtest.NewURL()
	if err != nil {
		panic(err)
	}
	testURL = dsn
	code := m.Run()
	cleanup()
	os.Exit(code)
}

// world is two organisations, A and B, each with an org admin, a managed and an unmanaged
// member, plus a service admin and a person with no grants.
type world struct {
	svc                *account.Service
	db                 *postgres.DB
	orgA, orgB         string
	adminA, adminB     passport.Actor
	service, person    passport.Actor
	managedA, joinedA  string
	managedB, joinedB  string
	adminAID, adminBID string
}

var seq int

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	db, err := postgres.Open(ctx, testURL, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	w := &world{db: db, svc: &account.Service{DB: db, DeletionGrace: 30 * 24 * time.Hour}}
	n := func(s string) string { seq++; return fmt.Sprintf("%s-%d-%d", s, time.Now().UnixNano()%1e9, seq) }
	mk := func(login string) string {
		a := &passport.Account{Login: n(login), Email: login + "@example.org", RegistrationMethod: passport.RegisteredSelf}
		if err := db.CreateAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
		return a.ID
	}
	sys := account.System()
	for _, o := range []*string{&w.orgA, &w.orgB} {
		org, err := w.svc.CreateOrg(ctx, sys, n("org"), "Org")
		if err != nil {
			t.Fatal(err)
		}
		*o = org.ID
		for _, r := range []string{"driver", "operator"} {
			if err := w.svc.SaveRole(ctx, sys, org.ID, passport.Role{Key: r, Names: map[string]string{"en": r}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	w.adminAID, w.adminBID = mk("admin-a"), mk("admin-b")
	if err := w.svc.Grant(ctx, sys, w.adminAID, passport.RoleOrgAdmin, w.orgA); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.Grant(ctx, sys, w.adminBID, passport.RoleOrgAdmin, w.orgB); err != nil {
		t.Fatal(err)
	}
	serviceID := mk("service")
	if err := w.svc.Grant(ctx, sys, serviceID, passport.RoleServiceAdmin, ""); err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct {
		actor *passport.Actor
		id    string
	}{{&w.adminA, w.adminAID}, {&w.adminB, w.adminBID}, {&w.service, serviceID}, {&w.person, mk("person")}} {
		if *x.actor, err = w.svc.Admin(ctx, x.id, "192.0.2.1", "test", ""); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []struct {
		id      *string
		org     string
		managed bool
	}{{&w.managedA, w.orgA, true}, {&w.joinedA, w.orgA, false}, {&w.managedB, w.orgB, true}, {&w.joinedB, w.orgB, false}} {
		*m.id = mk("member")
		if err := db.AddMember(ctx, postgres.NewMember{OrgID: m.org, AccountID: *m.id, Managed: m.managed, Roles: []string{"driver"}}); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// TestForeignOrganisationIsNotFound: for every action, an org admin of A reaching into B
// gets ENOTFOUND (never EFORBIDDEN), and so does a person without grants; nothing changes.
func TestForeignOrganisationIsNotFound(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	roles := []string{"operator"}
	pos := "Boss"
	actions := map[string]func(actor passport.Actor) error{
		"org":     func(a passport.Actor) error { _, err := w.svc.Org(ctx, a, w.orgB); return err },
		"rename":  func(a passport.Actor) error { _, err := w.svc.RenameOrg(ctx, a, w.orgB, "Mine"); return err },
		"disable": func(a passport.Actor) error { _, err := w.svc.SetOrgDisabled(ctx, a, w.orgB, true); return err },
		"roles":   func(a passport.Actor) error { _, err := w.svc.Roles(ctx, a, w.orgB); return err },
		"save role": func(a passport.Actor) error {
			return w.svc.SaveRole(ctx, a, w.orgB, passport.Role{Key: "x", Names: map[string]string{"en": "X"}})
		},
		"delete role": func(a passport.Actor) error { return w.svc.DeleteRole(ctx, a, w.orgB, "driver") },
		"members": func(a passport.Actor) error {
			_, _, err := w.svc.Members(ctx, a, account.MemberFilter{OrgID: w.orgB})
			return err
		},
		"member":       func(a passport.Actor) error { _, err := w.svc.Member(ctx, a, w.orgB, w.managedB); return err },
		"member via A": func(a passport.Actor) error { _, err := w.svc.Member(ctx, a, w.orgA, w.managedB); return err },
		"change roles": func(a passport.Actor) error {
			return w.svc.ChangeMembership(ctx, a, w.orgB, w.managedB, postgres.MembershipChange{Roles: &roles, Position: &pos})
		},
		"remove":         func(a passport.Actor) error { _, err := w.svc.RemoveMember(ctx, a, w.orgB, w.joinedB); return err },
		"block":          func(a passport.Actor) error { return w.svc.SetBlocked(ctx, a, w.orgB, w.managedB, true) },
		"block via A":    func(a passport.Actor) error { return w.svc.SetBlocked(ctx, a, w.orgA, w.managedB, true) },
		"end sessions":   func(a passport.Actor) error { return w.svc.EndSessions(ctx, a, w.orgB, w.managedB) },
		"org of account": func(a passport.Actor) error { _, err := w.svc.OrgOfAccount(ctx, a, w.managedB); return err },
		"events": func(a passport.Actor) error {
			_, err := w.svc.Events(ctx, a, account.EventFilter{OrgID: w.orgB})
			return err
		},
		"member events": func(a passport.Actor) error {
			_, err := w.svc.Events(ctx, a, account.EventFilter{OrgID: w.orgB, AccountID: w.managedB})
			return err
		},
		"add member": func(a passport.Actor) error {
			_, err := w.svc.AddMember(ctx, a, w.orgB, "nobody", nil, "")
			return err
		},
	}
	before := countEvents(t, w.db)
	for name, act := range actions {
		for who, actor := range map[string]passport.Actor{"admin of A": w.adminA, "person": w.person} {
			if err := act(actor); passport.ErrorCode(err) != passport.ENOTFOUND {
				t.Errorf("%s by %s: got %v, want ENOTFOUND", name, who, err)
			}
		}
	}
	if after := countEvents(t, w.db); after != before {
		t.Errorf("refused actions wrote %d events", after-before)
	}
	b, err := w.db.Account(ctx, w.managedB)
	if err != nil || b.Status != passport.StatusActive || !slices.Equal(b.Memberships[0].Roles, []string{"driver"}) {
		t.Errorf("B's member changed: %+v %v", b, err)
	}
	// The same actions on A's things work for A's admin (the matrix's other half), where
	// allowed to an org admin at all.
	if _, err := w.svc.Member(ctx, w.adminA, w.orgA, w.managedA); err != nil {
		t.Errorf("own member: %v", err)
	}
	if _, err := w.svc.RenameOrg(ctx, w.adminA, w.orgA, "Mine"); passport.ErrorCode(err) != passport.EFORBIDDEN {
		t.Errorf("org admin renaming own organisation: %v, want EFORBIDDEN (service admins rename)", err)
	}
}

func countEvents(t *testing.T, db *postgres.DB) int {
	t.Helper()
	var n int
	if err := db.Pool().QueryRow(context.Background(), `SELECT count(*) FROM security_events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// lastEvents returns the events written since id after.
func eventsSince(t *testing.T, db *postgres.DB, after int64) []passport.Event {
	t.Helper()
	es, err := db.Events(context.Background(), postgres.EventFilter{All: true, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var out []passport.Event
	for _, e := range es {
		if e.ID > after {
			out = append(out, e)
		}
	}
	return out
}

func maxEvent(t *testing.T, db *postgres.DB) int64 {
	t.Helper()
	var n int64
	if err := db.Pool().QueryRow(context.Background(), `SELECT coalesce(max(id), 0) FROM security_events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestEveryActionLeavesOneEvent: each admin action writes exactly one security event, of
// its type, naming the admin, their role and organisation, the subject and the organisation.
func TestEveryActionLeavesOneEvent(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	ops := []string{"operator"}
	pos := "Dispatcher"
	primary := true
	for _, tc := range []struct {
		name    string
		actor   passport.Actor
		act     func(passport.Actor) error
		typ     string
		subject string
		role    string
	}{
		{"save role", w.adminA, func(a passport.Actor) error {
			return w.svc.SaveRole(ctx, a, w.orgA, passport.Role{Key: "controller", Names: map[string]string{"en": "Controller", "ru": "Контролёр"}})
		}, passport.EventRoleSaved, "", passport.RoleOrgAdmin},
		{"change roles", w.adminA, func(a passport.Actor) error {
			return w.svc.ChangeMembership(ctx, a, w.orgA, w.managedA, postgres.MembershipChange{Roles: &ops, Position: &pos, Primary: &primary})
		}, passport.EventMembershipChanged, w.managedA, passport.RoleOrgAdmin},
		{"block", w.adminA, func(a passport.Actor) error { return w.svc.SetBlocked(ctx, a, w.orgA, w.managedA, true) },
			passport.EventAccountBlocked, w.managedA, passport.RoleOrgAdmin},
		{"unblock", w.adminA, func(a passport.Actor) error { return w.svc.SetBlocked(ctx, a, w.orgA, w.managedA, false) },
			passport.EventAccountUnblocked, w.managedA, passport.RoleOrgAdmin},
		{"end sessions", w.adminA, func(a passport.Actor) error { return w.svc.EndSessions(ctx, a, w.orgA, w.managedA) },
			passport.EventSessionsEnded, w.managedA, passport.RoleOrgAdmin},
		{"delete role", w.adminA, func(a passport.Actor) error { return w.svc.DeleteRole(ctx, a, w.orgA, "controller") },
			passport.EventRoleDeleted, "", passport.RoleOrgAdmin},
		{"remove unmanaged", w.adminA, func(a passport.Actor) error { _, err := w.svc.RemoveMember(ctx, a, w.orgA, w.joinedA); return err },
			passport.EventMemberRemoved, w.joinedA, passport.RoleOrgAdmin},
		{"add back", w.adminA, func(a passport.Actor) error {
			acc, err := w.db.Account(ctx, w.joinedA)
			if err != nil {
				return err
			}
			_, err = w.svc.AddMember(ctx, a, w.orgA, acc.Login, []string{"driver"}, "Driver")
			return err
		}, passport.EventMemberAdded, w.joinedA, passport.RoleOrgAdmin},
		{"rename (service)", w.service, func(a passport.Actor) error { _, err := w.svc.RenameOrg(ctx, a, w.orgA, "Renamed"); return err },
			passport.EventOrgRenamed, "", passport.RoleServiceAdmin},
		{"disable (service)", w.service, func(a passport.Actor) error { _, err := w.svc.SetOrgDisabled(ctx, a, w.orgB, true); return err },
			passport.EventOrgDisabled, "", passport.RoleServiceAdmin},
	} {
		t.Run(tc.name, func(t *testing.T) {
			after := maxEvent(t, w.db)
			if err := tc.act(tc.actor); err != nil {
				t.Fatal(err)
			}
			es := eventsSince(t, w.db, after)
			if len(es) != 1 {
				t.Fatalf("%d events, want 1: %+v", len(es), es)
			}
			e := es[0]
			if e.Type != tc.typ || e.Actor.Kind != passport.ActorAdmin || e.Actor.AccountID != tc.actor.AccountID ||
				e.Actor.Role != tc.role || e.AccountID != tc.subject || e.Actor.IP != "192.0.2.1" {
				t.Errorf("event %+v", e)
			}
			if tc.role == passport.RoleOrgAdmin && (e.Actor.OrgID != w.orgA || e.OrgID != w.orgA) {
				t.Errorf("organisation of the event: actor %q, event %q, want %q", e.Actor.OrgID, e.OrgID, w.orgA)
			}
		})
	}
	// A disabled organisation's roles leave the account at once.
	b, err := w.db.Account(ctx, w.managedB)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Memberships) != 1 || len(b.ActiveMemberships()) != 0 {
		t.Errorf("member of a disabled organisation: %+v", b.Memberships)
	}
}

// TestManagedAndUnmanagedMembers: an org admin may block only members the organisation
// manages; removing a managed member schedules the deletion of the account unless another
// organisation holds it, and signs it out; an unmanaged member keeps the account.
func TestManagedAndUnmanagedMembers(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if err := w.svc.SetBlocked(ctx, w.adminA, w.orgA, w.joinedA, true); passport.ErrorCode(err) != passport.EFORBIDDEN {
		t.Errorf("org admin blocking a member who joined: %v, want EFORBIDDEN", err)
	}
	if err := w.svc.SetBlocked(ctx, w.service, w.orgA, w.joinedA, true); err != nil {
		t.Errorf("service admin blocking: %v", err)
	}
	if err := w.svc.SetBlocked(ctx, w.service, w.orgA, w.joinedA, true); passport.ErrorCode(err) != passport.ECONFLICT {
		t.Errorf("blocking twice: %v, want ECONFLICT", err)
	}
	// Unmanaged: only the membership goes.
	if scheduled, err := w.svc.RemoveMember(ctx, w.adminB, w.orgB, w.joinedB); err != nil || scheduled {
		t.Fatalf("remove unmanaged: %v %v", scheduled, err)
	}
	if a, _ := w.db.Account(ctx, w.joinedB); a.Status != passport.StatusActive || len(a.Memberships) != 0 {
		t.Errorf("unmanaged member after removal: %s %+v", a.Status, a.Memberships)
	}
	// Managed, but also in A: stays active.
	if err := w.db.AddMember(ctx, postgres.NewMember{OrgID: w.orgA, AccountID: w.managedB}); err != nil {
		t.Fatal(err)
	}
	if scheduled, err := w.svc.RemoveMember(ctx, w.adminB, w.orgB, w.managedB); err != nil || scheduled {
		t.Fatalf("remove managed member of two organisations: %v %v", scheduled, err)
	}
	// Managed and only here: pending deletion.
	if scheduled, err := w.svc.RemoveMember(ctx, w.adminA, w.orgA, w.managedA); err != nil || !scheduled {
		t.Fatalf("remove managed: %v %v", scheduled, err)
	}
	if a, _ := w.db.Account(ctx, w.managedA); a.Status != passport.StatusPendingDeletion || a.PurgeAt == nil {
		t.Errorf("managed member after removal: %s", a.Status)
	}
	if _, err := w.svc.RemoveMember(ctx, w.adminA, w.orgA, w.managedA); passport.ErrorCode(err) != passport.ENOTFOUND {
		t.Errorf("removing twice: %v", err)
	}
}

// TestMemberListScopeAndPaging: an org admin sees only their members; keyset pages visit
// every member once; filters narrow; bad filter values are field errors.
func TestMemberListScopeAndPaging(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		a := &passport.Account{Login: fmt.Sprintf("page-%d-%d", i, time.Now().UnixNano()), Email: "p@example.org"}
		if err := w.db.CreateAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := w.db.AddMember(ctx, postgres.NewMember{OrgID: w.orgA, AccountID: a.ID, Roles: []string{"operator"}}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	var after postgres.MemberCursor
	for pages := 0; ; pages++ {
		rows, next, err := w.svc.Members(ctx, w.adminA, account.MemberFilter{After: after, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.OrgID != w.orgA {
				t.Errorf("admin of A sees a member of %s", r.OrgName)
			}
			if seen[r.AccountID] {
				t.Errorf("%s seen twice", r.Login)
			}
			seen[r.AccountID] = true
		}
		if next.Login == "" {
			break
		}
		after = next
		if pages > 10 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 7 {
		t.Errorf("saw %d members of A, want 7", len(seen))
	}
	rows, _, err := w.svc.Members(ctx, w.adminA, account.MemberFilter{Role: "operator"})
	if err != nil || len(rows) != 5 {
		t.Errorf("role filter: %d rows, %v", len(rows), err)
	}
	rows, _, err = w.svc.Members(ctx, w.service, account.MemberFilter{Query: "page-"})
	if err != nil || len(rows) != 5 {
		t.Errorf("search: %d rows, %v", len(rows), err)
	}
	rows, _, err = w.svc.Members(ctx, w.adminA, account.MemberFilter{Query: "%"})
	if err != nil || len(rows) != 0 {
		t.Errorf("a LIKE wildcard searched literally: %d rows, %v", len(rows), err)
	}
	if _, _, err := w.svc.Members(ctx, w.adminA, account.MemberFilter{Status: "frozen"}); passport.ErrorCode(err) != passport.EINVALID {
		t.Errorf("unknown status: %v", err)
	}
	if _, _, err := w.svc.Members(ctx, w.person, account.MemberFilter{}); passport.ErrorCode(err) != passport.ENOTFOUND {
		t.Errorf("person listing members: %v", err)
	}
}

// TestRolesMustBeInTheCatalogue: an unknown role is refused and nothing changes.
func TestRolesMustBeInTheCatalogue(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	bad := []string{"driver", "pilot"}
	err := w.svc.ChangeMembership(ctx, w.adminA, w.orgA, w.managedA, postgres.MembershipChange{Roles: &bad})
	if pe := passport.AsError(err); pe == nil || pe.Code != passport.EINVALID || pe.Field != "roles" {
		t.Fatalf("unknown role: %v", err)
	}
	if a, _ := w.db.Account(ctx, w.managedA); !slices.Equal(a.Memberships[0].Roles, []string{"driver"}) {
		t.Errorf("roles changed: %v", a.Memberships[0].Roles)
	}
	// An organisation is named by id or alias alike.
	o, err := w.svc.Org(ctx, w.adminA, w.orgA)
	if err != nil {
		t.Fatal(err)
	}
	if roles, err := w.svc.Roles(ctx, w.adminA, o.Alias); err != nil || len(roles) != 2 {
		t.Errorf("roles by alias: %v %v", roles, err)
	}
	if err := w.svc.DeleteRole(ctx, w.adminA, o.Alias, "operator"); err != nil {
		t.Errorf("delete role by alias: %v", err)
	}
	if _, err := w.svc.RenameOrg(ctx, w.service, o.Alias, "By alias"); err != nil {
		t.Errorf("rename by alias: %v", err)
	}
	if _, err := w.svc.CreateOrg(ctx, w.adminA, "mine", "Mine"); passport.ErrorCode(err) != passport.EFORBIDDEN {
		t.Errorf("org admin creating an organisation: %v", err)
	}
	if _, err := w.svc.CreateOrg(ctx, w.service, "Bad Alias", "X"); passport.ErrorCode(err) != passport.EINVALID {
		t.Errorf("bad alias: %v", err)
	}
}
