package oidc

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/postgres"
)

// clientTTL bounds how long a cached client lives even if a notification were lost (the
// listener reconnecting, say).
const clientTTL = 30 * time.Second

// clientCache keeps clients in memory: the library asks for the client several times per
// token request. A trigger on the clients table notifies every replica of any change, and
// the entry is dropped at once; entries also expire after clientTTL. Unknown ids are not
// cached, so made-up client ids cannot fill the memory.
type clientCache struct {
	db *postgres.DB
	mu sync.RWMutex
	m  map[string]cachedClient
	// live is true while the change listener is connected; without it nothing is cached.
	live bool
	// gen counts notifications: a lookup that raced with a change does not store its
	// (possibly stale) result.
	gen uint64
}

type cachedClient struct {
	c       *passport.Client
	expires time.Time
}

func newClientCache(db *postgres.DB) *clientCache {
	return &clientCache{db: db, m: map[string]cachedClient{}}
}

// run keeps the change listener connected until ctx ends.
func (cc *clientCache) run(ctx context.Context, log *slog.Logger) {
	for ctx.Err() == nil {
		err := cc.db.Listen(ctx, postgres.ClientsChannel, cc.markLive, func(id string) {
			cc.mu.Lock()
			delete(cc.m, id)
			cc.gen++
			cc.mu.Unlock()
		})
		cc.mu.Lock()
		cc.live, cc.m = false, map[string]cachedClient{}
		cc.mu.Unlock()
		if ctx.Err() == nil {
			log.Warn("client cache: listener", slog.Any("error", err))
			time.Sleep(time.Second)
		}
	}
}

// markLive is called once the listener is set up: from then on every change is heard.
func (cc *clientCache) markLive() {
	cc.mu.Lock()
	cc.live, cc.m = true, map[string]cachedClient{}
	cc.gen++
	cc.mu.Unlock()
}

func (cc *clientCache) get(ctx context.Context, id string) (*passport.Client, error) {
	now := time.Now()
	cc.mu.RLock()
	e, ok := cc.m[id]
	live, gen := cc.live, cc.gen
	cc.mu.RUnlock()
	if ok && now.Before(e.expires) {
		return e.c, nil
	}
	c, err := cc.db.Client(ctx, id)
	if err != nil || !live {
		return c, err
	}
	cc.mu.Lock()
	if cc.live && cc.gen == gen {
		cc.m[id] = cachedClient{c: c, expires: now.Add(clientTTL)}
	}
	cc.mu.Unlock()
	return c, nil
}
