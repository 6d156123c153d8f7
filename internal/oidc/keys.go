package oidc

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/passport-idp/passport/internal/passport"
	"github.com/passport-idp/passport/internal/postgres"
)

// keyRefresh is how often each replica re-reads the key table. Keys are published before
// they sign (activate_at), so a replica that has not yet seen a new key still verifies it
// once it has reloaded within this interval.
const keyRefresh = 5 * time.Minute

// Keys holds the signing keys in memory, decrypted, and reloads them from the database
// periodically. Signing and JWKS never touch the database on the request path.
type Keys struct {
	db   *postgres.DB
	aead cipher.AEAD

	mu       sync.RWMutex
	signing  *signingKey
	public   []op.Key
	loadedAt time.Time
}

type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.id }

type publicKey struct {
	id  string
	key *rsa.PublicKey
}

func (k *publicKey) ID() string                         { return k.id }
func (k *publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *publicKey) Use() string                        { return "sig" }
func (k *publicKey) Key() any                           { return k.key }

// NewKeys makes the first RS256 key when the database has none (one replica wins the race),
// then loads every key. encKey encrypts private keys at rest.
func NewKeys(ctx context.Context, db *postgres.DB, encKey [32]byte) (*Keys, error) {
	block, err := aes.NewCipher(encKey[:])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	k := &Keys{db: db, aead: aead}
	if err := db.EnsureSigningKey(ctx, k.generate); err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	if err := k.load(ctx); err != nil {
		return nil, err
	}
	return k, nil
}

// generate makes a new RSA 2048 key with its private part sealed.
func (k *Keys) generate() (passport.SigningKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return passport.SigningKey{}, err
	}
	kid := passport.NewToken()[:22]
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return passport.SigningKey{}, err
	}
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return passport.SigningKey{}, err
	}
	sealed := k.aead.Seal(nonce, nonce, der, []byte(kid))
	pub, err := json.Marshal(jose.JSONWebKey{Key: &priv.PublicKey, KeyID: kid, Algorithm: string(jose.RS256), Use: "sig"})
	if err != nil {
		return passport.SigningKey{}, err
	}
	return passport.SigningKey{KID: kid, Alg: string(jose.RS256), PrivateEnc: sealed, PublicJWK: pub}, nil
}

func (k *Keys) open(sk passport.SigningKey) (*rsa.PrivateKey, error) {
	n := k.aead.NonceSize()
	if len(sk.PrivateEnc) < n {
		return nil, fmt.Errorf("signing key %s: sealed key too short", sk.KID)
	}
	der, err := k.aead.Open(nil, sk.PrivateEnc[:n], sk.PrivateEnc[n:], []byte(sk.KID))
	if err != nil {
		return nil, fmt.Errorf("signing key %s cannot be decrypted: was secret_key changed?", sk.KID)
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	rsaKey, ok := priv.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key %s is not RSA", sk.KID)
	}
	return rsaKey, nil
}

// load reads every unretired key: all are published; the newest active one signs.
func (k *Keys) load(ctx context.Context) error {
	rows, err := k.db.SigningKeys(ctx)
	if err != nil {
		return err
	}
	now := k.db.Now()
	var signing *signingKey
	var public []op.Key
	for _, row := range rows {
		priv, err := k.open(row)
		if err != nil {
			return err
		}
		public = append(public, &publicKey{id: row.KID, key: &priv.PublicKey})
		if signing == nil && !row.ActivateAt.After(now) {
			signing = &signingKey{id: row.KID, key: priv}
		}
	}
	if signing == nil {
		return fmt.Errorf("no active signing key")
	}
	k.mu.Lock()
	k.signing, k.public, k.loadedAt = signing, public, now
	k.mu.Unlock()
	return nil
}

// maybeReload reloads the keys when the cache is older than keyRefresh. A failed reload
// keeps the keys already in memory.
func (k *Keys) maybeReload(ctx context.Context) {
	k.mu.RLock()
	stale := time.Since(k.loadedAt) > keyRefresh
	k.mu.RUnlock()
	if stale {
		_ = k.load(ctx)
	}
}

// SigningKey returns the key that signs new tokens.
func (k *Keys) SigningKey(ctx context.Context) (op.SigningKey, error) {
	k.maybeReload(ctx)
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.signing, nil
}

// KeySet returns every published public key.
func (k *Keys) KeySet(ctx context.Context) ([]op.Key, error) {
	k.maybeReload(ctx)
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.public, nil
}

// SignatureAlgorithms lists the algorithms of the published keys.
func (k *Keys) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}
