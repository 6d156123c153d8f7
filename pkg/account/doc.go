// Package account is the Go client of Passport's APIs: the account API (/api/v1/me:
// profile, publicity, photo, contacts, password, two factors, sessions, connected
// applications, security events, export, deletion; scope passport:account) and the admin
// API (/api/v1/admin: organisations, roles, members, blocking, sessions, security events;
// scope passport:admin, or an organisation's service account), generated from docs/openapi.yaml by oapi-codegen. Passport's own
// end-to-end tests use it, so it cannot drift from the server; `make lint` regenerates it
// and fails on any difference.
//
//	c, err := account.NewClientWithResponses("https://id.example/api/v1",
//		account.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
//			r.Header.Set("Authorization", "Bearer "+accessToken) // scope passport:account
//			return nil
//		}))
//	me, err := c.GetMeWithResponse(ctx)
//	fmt.Println(me.JSON200.Nickname)
package account

//go:generate go tool oapi-codegen -generate types,client -package account -o client.gen.go ../../docs/openapi.yaml
