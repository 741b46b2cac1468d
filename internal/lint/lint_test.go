package lint

import (
	"bufio"
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// modulePath is the import path of the repository's root module.
const modulePath = "github.com/seed901663da/raft"

// maxFileLines bounds hand-written Go files. The style guide aims for about
// 800; this is the hard stop where a file must be split by concern.
const maxFileLines = 1200

// pureDirs are the packages (relative to the repository root) that must stay
// free of clocks, randomness, network and file system. A directory that does
// not exist yet is skipped, so the rule can name packages before they land.
var pureDirs = []string{".", "quorum", "progress", "confchange"}

// bannedImports are the standard packages pureDirs may not import from
// non-test files. Time and randomness reach the core through Config and
// Tick; I/O is the application's job.
var bannedImports = []string{"time", "math/rand", "math/rand/v2", "net", "os"}

// repoRoot returns the repository root: the directory two levels up from
// this package, checked by reading its go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatalf("reading root go.mod: %v", err)
	}
	if !bytes.Contains(gomod, []byte("module "+modulePath+"\n")) {
		t.Fatalf("%s/go.mod does not declare module %s", root, modulePath)
	}
	return root
}

// parseDir parses the non-test .go files directly in dir with the given
// mode. Files are parsed whatever their build tags, so a rule cannot be
// dodged by a file that only builds on some platform.
func parseDir(fset *token.FileSet, dir string, mode parser.Mode) ([]*ast.File, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []*ast.File
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, mode)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

// importViolations reports every import of a banned package in files, one
// "file:line: imports "pkg"" line each.
func importViolations(fset *token.FileSet, files []*ast.File, banned []string) []string {
	var out []string
	for _, f := range files {
		for _, imp := range f.Imports {
			path := strings.Trim(imp.Path.Value, "`\"")
			if slices.Contains(banned, path) {
				pos := fset.Position(imp.Pos())
				out = append(out, fmt.Sprintf("%s:%d: imports %q", pos.Filename, pos.Line, path))
			}
		}
	}
	return out
}

// packageDocProblem returns why the package made of files lacks a proper
// doc comment, or "" if it has one. A library package's doc must start with
// "Package <name> "; a command (package main) just needs a doc comment,
// since its sentence conventionally starts with the command's name.
func packageDocProblem(files []*ast.File) string {
	if len(files) == 0 {
		return ""
	}
	name := files[0].Name.Name
	for _, f := range files {
		if f.Doc == nil {
			continue
		}
		text := f.Doc.Text()
		if name == "main" || strings.HasPrefix(text, "Package "+name+" ") {
			return ""
		}
	}
	if name == "main" {
		return "command has no doc comment"
	}
	return fmt.Sprintf("no doc comment starting %q (put one in doc.go)", "Package "+name+" ")
}

// goDirs walks root and returns every directory (relative, slash-separated,
// "." for root) holding .go files. It descends into nested modules, since
// they ship in the same repository, and skips testdata, hidden and
// underscore directories, which the go tool ignores as well.
func goDirs(root string) ([]string, error) {
	seen := map[string]bool{}
	var dirs []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") {
			return nil
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if !seen[rel] {
			seen[rel] = true
			dirs = append(dirs, rel)
		}
		return nil
	})
	return dirs, err
}

// countLines returns the number of lines in the file at path.
func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	n := 0
	for sc.Scan() {
		n++
	}
	return n, sc.Err()
}

// longFiles reports the Go files in dir (not recursive) longer than limit
// lines, skipping generated *.pb.go files.
func longFiles(dir string, limit int) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, ".pb.go") {
			continue
		}
		n, err := countLines(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		if n > limit {
			out = append(out, fmt.Sprintf("%s: %d lines", filepath.Join(dir, name), n))
		}
	}
	return out, nil
}

// TestPureCoreImports enforces that the deterministic packages never import
// clocks, randomness, network or file system from non-test code.
func TestPureCoreImports(t *testing.T) {
	root := repoRoot(t)
	checked := 0
	for _, rel := range pureDirs {
		dir := filepath.Join(root, rel)
		if _, err := os.Stat(dir); err != nil {
			t.Logf("skipping %s: %v", rel, err)
			continue
		}
		fset := token.NewFileSet()
		files, err := parseDir(fset, dir, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		checked += len(files)
		for _, v := range importViolations(fset, files, bannedImports) {
			t.Errorf("%s (banned in %s; inject it through Config instead)", v, rel)
		}
	}
	if checked == 0 {
		// Early in the project none of them may exist yet; the checker
		// itself is covered by TestImportViolationsReports.
		t.Skipf("none of %q has Go files yet", pureDirs)
	}
}

// TestImportViolationsReports proves the import checker catches a banned
// import, in both plain and grouped/renamed forms, and accepts clean files.
func TestImportViolationsReports(t *testing.T) {
	const bad = `package raft

import "time"

import (
	"errors"
	mrand "math/rand/v2"
)

var _ = time.Second
var _ = errors.New
var _ = mrand.Int
`
	const good = `package raft

import (
	"errors"
	"sort"
)
`
	fset := token.NewFileSet()
	badFile, err := parser.ParseFile(fset, "bad.go", bad, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	goodFile, err := parser.ParseFile(fset, "good.go", good, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	got := importViolations(fset, []*ast.File{badFile, goodFile}, bannedImports)
	want := []string{`bad.go:3: imports "time"`, `bad.go:7: imports "math/rand/v2"`}
	if !slices.Equal(got, want) {
		t.Fatalf("importViolations = %q, want %q", got, want)
	}
}

// TestPackageDocs enforces a package doc comment on every package in the
// repository.
func TestPackageDocs(t *testing.T) {
	root := repoRoot(t)
	dirs, err := goDirs(root)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(dirs, "internal/lint") {
		t.Fatalf("directory walk missed internal/lint itself; found %q", dirs)
	}
	for _, rel := range dirs {
		fset := token.NewFileSet()
		files, err := parseDir(fset, filepath.Join(root, rel), parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		// A directory with only _test.go files is not a package to document.
		if p := packageDocProblem(files); p != "" {
			t.Errorf("%s: %s", rel, p)
		}
	}
}

// TestPackageDocProblemReports proves the doc checker rejects a missing doc
// and a doc that does not name the package, and accepts the usual forms.
func TestPackageDocProblemReports(t *testing.T) {
	cases := []struct {
		name    string
		srcs    []string
		wantBad bool
	}{
		{"no doc", []string{"package quorum\n"}, true},
		{"wrong name", []string{"// Package progress tracks followers.\npackage quorum\n"}, true},
		{"not a doc comment", []string{"// Package quorum computes majorities.\n\npackage quorum\n"}, true},
		{"doc in one of two files", []string{"package quorum\n", "// Package quorum computes majorities.\npackage quorum\n"}, false},
		{"block comment", []string{"/*\nPackage quorum computes majorities.\n*/\npackage quorum\n"}, false},
		{"command", []string{"// Raftdemo runs a small cluster.\npackage main\n"}, false},
		{"command without doc", []string{"package main\n"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fset := token.NewFileSet()
			var files []*ast.File
			for i, src := range c.srcs {
				f, err := parser.ParseFile(fset, fmt.Sprintf("f%d.go", i), src, parser.PackageClauseOnly|parser.ParseComments)
				if err != nil {
					t.Fatal(err)
				}
				files = append(files, f)
			}
			p := packageDocProblem(files)
			if (p != "") != c.wantBad {
				t.Fatalf("packageDocProblem = %q, want problem: %v", p, c.wantBad)
			}
		})
	}
}

// TestFileLength enforces maxFileLines on every hand-written Go file in the
// repository, tests included.
func TestFileLength(t *testing.T) {
	root := repoRoot(t)
	dirs, err := goDirs(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, rel := range dirs {
		long, err := longFiles(filepath.Join(root, rel), maxFileLines)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range long {
			t.Errorf("%s (limit %d; split the file by concern)", l, maxFileLines)
		}
	}
}

// TestLongFilesReports proves the length checker reports an over-long file
// and exempts generated *.pb.go files.
func TestLongFilesReports(t *testing.T) {
	dir := t.TempDir()
	body := "package x\n" + strings.Repeat("// filler\n", 20)
	for _, name := range []string{"long.go", "long.pb.go", "short.go"} {
		content := body
		if name == "short.go" {
			content = "package x\n"
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := longFiles(dir, 20)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "long.go") + ": 21 lines"}
	if !slices.Equal(got, want) {
		t.Fatalf("longFiles = %q, want %q", got, want)
	}
}
