package druid_test

import (
	"context"
	"testing"

	"github.com/imply-operator/imply-operator/pkg/druid"
	"github.com/imply-operator/imply-operator/pkg/druid/fakecoordinator"
)

func TestCredentialsMatches(t *testing.T) {
	fake := fakecoordinator.New(fakecoordinator.Options{AdminPassword: "admin-pw-0123456789", CredentialIterations: 50})
	defer fake.Close()
	api, err := druid.New(druid.Config{BaseURL: fake.URL, Username: "admin", Password: "admin-pw-0123456789", Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := api.CreateAuthenticatorUser(ctx, "basic", "bob"); err != nil {
		t.Fatal(err)
	}
	user, err := api.GetAuthenticatorUser(ctx, "basic", "bob")
	if err != nil {
		t.Fatal(err)
	}
	if user.Credentials.Matches("anything") {
		t.Fatal("a user without credentials matched a password")
	}
	if err := api.SetCredentials(ctx, "basic", "bob", "correct horse"); err != nil {
		t.Fatal(err)
	}
	if user, err = api.GetAuthenticatorUser(ctx, "basic", "bob"); err != nil {
		t.Fatal(err)
	}
	if !user.Credentials.Matches("correct horse") {
		t.Error("the password set did not match its stored credentials")
	}
	for _, wrong := range []string{"", "correct horse ", "Correct horse", "correct hors"} {
		if user.Credentials.Matches(wrong) {
			t.Errorf("%q matched the credentials of another password", wrong)
		}
	}
}
