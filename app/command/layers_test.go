package command_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The HTTP API, the jobs and the webhooks go through the application: none imports
// the store, nor decides on a stream itself (Execute, ExecuteTx, Load).
func TestOnlyAppReachesTheStore(t *testing.T) {
	for _, dir := range []string{"../../api", "../../jobs", "../../webhooks"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		if len(files) == 0 {
			t.Fatalf("no Go files in %s", dir)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			file, err := parser.ParseFile(token.NewFileSet(), f, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(file, func(n ast.Node) bool {
				if sel, ok := n.(*ast.SelectorExpr); ok {
					if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "command" && slices.Contains([]string{"Execute", "ExecuteTx", "Load", "Read"}, sel.Sel.Name) {
						t.Errorf("%s calls command.%s: a use case belongs in app/command", f, sel.Sel.Name)
					}
				}
				return true
			})
			for _, imp := range file.Imports {
				if path, _ := strconv.Unquote(imp.Path.Value); strings.HasPrefix(path, "github.com/servicehall/servicehall/eventstore") {
					t.Errorf("%s imports %s", f, path)
				}
			}
		}
	}
}
