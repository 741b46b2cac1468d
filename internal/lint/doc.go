// Package lint holds repository rules written as ordinary Go tests, so that
// `go test ./...` (and therefore CI) enforces them next to the unit tests.
//
// The rules:
//
//   - The deterministic core never reaches for the outside world: the root
//     package and the pure helper packages (quorum, progress, confchange) may
//     not import time, math/rand, math/rand/v2, net or os from non-test files.
//     Clocks and randomness are injected by the caller, which is what lets a
//     simulator replay a run from a seed.
//   - Every package in the repository has a package doc comment, so `go doc`
//     and pkg.go.dev always say what a folder is for.
//   - No hand-written Go file is longer than [maxFileLines] lines; generated
//     *.pb.go files are exempt.
//
// Each rule is a small checker function over parsed source, tested on a
// synthetic input that breaks the rule, so a checker that silently stops
// reporting anything fails its own test rather than passing vacuously.
// The package has no non-test code besides this comment and is never
// imported.
package lint
