package passport

import (
	"context"
	"testing"
	"time"
)

// TestArgonGateBoundsTheQueue: past its queue depth a caller is told "busy" at once, and a
// waiter whose request ended stops waiting, instead of queueing real sign-ins behind a flood
// and computing for clients that left.
func TestArgonGateBoundsTheQueue(t *testing.T) {
	g := newGate(1, 1)
	if err := g.enter(context.Background()); err != nil {
		t.Fatal(err)
	}
	// One waiter fits in the queue; it waits until its request ends.
	ctx, cancel := context.WithCancel(context.Background())
	waited := make(chan error, 1)
	go func() { waited <- g.enter(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for g.waiting.Load() != 1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	// A second waiter does not fit: busy at once.
	start := time.Now()
	if err := g.enter(context.Background()); ErrorCode(err) != EUNAVAILABLE {
		t.Fatalf("queue full: got %v, want EUNAVAILABLE", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("a full queue answered after %s", d)
	}
	cancel()
	if err := <-waited; ErrorCode(err) != EUNAVAILABLE {
		t.Fatalf("cancelled waiter: got %v, want EUNAVAILABLE", err)
	}
	if n := g.waiting.Load(); n != 0 {
		t.Errorf("waiting = %d after the waiter left", n)
	}
	// Once the slot is free the next caller runs.
	g.leave()
	if err := g.enter(context.Background()); err != nil {
		t.Fatalf("free slot: %v", err)
	}
	g.leave()
}

// TestCheckPasswordStopsForAGoneRequest: a password check whose request has already ended
// while the gate is full gives EUNAVAILABLE rather than an answer.
func TestCheckPasswordStopsForAGoneRequest(t *testing.T) {
	p := Argon2Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1}
	h, err := HashPassword(context.Background(), "correct horse 1", p)
	if err != nil {
		t.Fatal(err)
	}
	saved := argon
	argon = newGate(1, 8)
	defer func() { argon = saved }()
	if err := argon.enter(context.Background()); err != nil { // the only slot is busy
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	ok, _, err := CheckPassword(ctx, h, "correct horse 1", p)
	if ok || ErrorCode(err) != EUNAVAILABLE {
		t.Errorf("got ok=%v err=%v, want no answer and EUNAVAILABLE", ok, err)
	}
	argon.leave()
}

// TestEveryPasswordCheckDoesArgonWork: whatever the stored hash — an account created
// without a password yet (""), a malformed one, an issued one — the check spends an
// argon2id computation, as for an unknown login, so a stopwatch cannot tell those logins
// apart. Proven through the gate: with no slot free, each check is told "busy" instead of
// answering at once.
func TestEveryPasswordCheckDoesArgonWork(t *testing.T) {
	saved := argon
	argon = newGate(1, 0)
	defer func() { argon = saved }()
	if err := argon.enter(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer argon.leave()
	issued := HashIssuedPassword("Abcdefgh2345jkmn")
	for name, hash := range map[string]string{"no password": "", "malformed": "$argon2id$v=19$broken", "issued": issued} {
		if _, _, err := CheckPassword(context.Background(), hash, "a-guess-123", DefaultArgon2); ErrorCode(err) != EUNAVAILABLE {
			t.Errorf("%s: CheckPassword answered without argon2 work (err %v)", name, err)
		}
	}
}
