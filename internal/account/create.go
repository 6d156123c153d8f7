package account

import (
	"context"
	"strings"

	"github.com/passport-idp/passport/internal/passport"
)

// NewAccount is an account to create: the command line's `user create` and the demo today;
// an organisation's issued accounts next (issue 13).
type NewAccount struct {
	Login      string
	Email      string
	Password   string
	GivenName  string
	FamilyName string
	Method     string // registration method; admin when empty
}

// Validate checks every field and builds the account with its password hashed (argon2id).
// Nothing is written.
func (s *Service) Validate(ctx context.Context, in NewAccount) (*passport.Account, error) {
	if err := passport.ValidateLogin(in.Login); err != nil {
		return nil, err
	}
	email, err := passport.NormalizeEmail(in.Email)
	if err != nil {
		return nil, err
	}
	given, family := strings.TrimSpace(in.GivenName), strings.TrimSpace(in.FamilyName)
	if err := passport.ValidateName("given_name", "Given name", given); err != nil {
		return nil, err
	}
	if err := passport.ValidateName("family_name", "Family name", family); err != nil {
		return nil, err
	}
	if err := passport.CheckPasswordPolicy(in.Password, in.Login); err != nil {
		return nil, err
	}
	hash, err := passport.HashPassword(ctx, in.Password, s.Argon2)
	if err != nil {
		return nil, err
	}
	method := in.Method
	if method == "" {
		method = passport.RegisteredAdmin
	}
	return &passport.Account{Login: strings.TrimSpace(in.Login), Email: email, GivenName: given, FamilyName: family,
		PasswordHash: hash, RegistrationMethod: method}, nil
}

// CreateAccount validates and creates an account, recording account.created. Only the
// system (command line) creates accounts this way today; an organisation's administrators
// issue accounts through their own action (issue 13).
func (s *Service) CreateAccount(ctx context.Context, actor passport.Actor, in NewAccount) (*passport.Account, error) {
	if actor.Kind != passport.ActorSystem {
		return nil, passport.Errorf(passport.EFORBIDDEN, "Only a service administrator can do this.")
	}
	a, err := s.Validate(ctx, in)
	if err != nil {
		return nil, err
	}
	return a, s.DB.CreateAccount(passport.WithActor(ctx, actor), a)
}
