// Package auth holds the operator's pure credential logic: agent tokens, generated Druid
// passwords, the SecurityPolicy's password rules, the salted history of past passwords, the
// rotation schedule of generated secrets, and the policy.json rendered for the Imply Manager.
//
// Nothing here talks to the API server, reads the clock or uses hidden randomness: every
// function that needs randomness takes an io.Reader (nil means crypto/rand), and every function
// that depends on time takes it as an argument, so callers test with fixed readers and instants.
//
// Passwords and tokens never appear in errors or violation messages, so callers may show those
// to users in conditions and events as they are.
package auth
