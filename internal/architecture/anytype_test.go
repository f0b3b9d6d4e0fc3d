package architecture

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"testing"
)

// writePath lists the packages a write to a policy goes through, from the
// engine's decision to the AWS call. Those not written yet are skipped.
var writePath = []string{
	"controllers/engine",
	"controllers/kernel",
	"controllers/writer",
	"controllers/awslambda",
}

// TestNoAnyAcrossWritePath keeps the write path typed end to end. An any
// in its API (writer.Plan.Note was one) is a value the compiler no longer
// follows: the planner puts something in, the reconciler type-asserts it
// back out, and a change on one side fails at run time on the other. The
// exported functions and methods, the exported fields of exported structs
// and the methods of exported interfaces take and return named types.
// Type parameters may be constrained by any or comparable, and a printf
// helper may take args ...any after its format string.
func TestNoAnyAcrossWritePath(t *testing.T) {
	r := load(t)
	var found []string
	for _, dir := range writePath {
		files := r.filesIn(dir)
		if len(files) == 0 {
			t.Logf("%s/ does not exist yet; skipped", dir)
			continue
		}
		for _, f := range files {
			if f.test || f.generated {
				continue
			}
			found = append(found, anyInAPI(f)...)
		}
	}
	check(t, "any or interface{} in the exported API of the write path", found)
}

// anyInAPI lists the places where a file's exported API carries any.
func anyInAPI(f *goFile) []string {
	var found []string
	for _, d := range f.ast.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if exportedFunc(d) {
				for _, p := range anyInSignature(d.Type) {
					found = append(found, fmt.Sprintf("%s: func %s: %s", f.at(p.pos), funcName(d), p.what))
				}
			}
		case *ast.GenDecl:
			if d.Tok != token.TYPE {
				continue
			}
			for _, s := range d.Specs {
				if s := s.(*ast.TypeSpec); s.Name.IsExported() {
					for _, p := range anyInType(s) {
						found = append(found, fmt.Sprintf("%s: type %s: %s", f.at(p.pos), s.Name.Name, p.what))
					}
				}
			}
		}
	}
	for i := range found {
		found[i] += " (name the type it carries; the write path is typed end to end)"
	}
	return found
}

// exportedFunc reports whether a function or method is part of the API: an
// exported function, or an exported method of an exported type.
func exportedFunc(d *ast.FuncDecl) bool {
	if !d.Name.IsExported() {
		return false
	}
	if d.Recv == nil || len(d.Recv.List) == 0 {
		return true
	}
	recv, _ := receiverName(d.Recv.List[0].Type)
	return ast.IsExported(recv)
}

// anyPlace is one place where an API carries any.
type anyPlace struct {
	pos  token.Pos
	what string
}

// anyInType looks at an exported type: the exported fields of a struct,
// the exported methods of an interface, or what any other type is.
func anyInType(s *ast.TypeSpec) []anyPlace {
	var out []anyPlace
	switch t := s.Type.(type) {
	case *ast.StructType:
		for _, field := range t.Fields.List {
			for _, name := range fieldNames(field) {
				if ast.IsExported(name) && hasAny(field.Type) {
					out = append(out, anyPlace{field.Pos(), fmt.Sprintf("field %s is %s", name, typeString(field.Type))})
				}
			}
		}
	case *ast.InterfaceType:
		for _, m := range t.Methods.List {
			ft, ok := m.Type.(*ast.FuncType)
			if !ok || len(m.Names) == 0 || !m.Names[0].IsExported() {
				continue // an embedded interface or type set, or unexported
			}
			for _, p := range anyInSignature(ft) {
				out = append(out, anyPlace{p.pos, "method " + m.Names[0].Name + ": " + p.what})
			}
		}
	default:
		if hasAny(s.Type) {
			out = append(out, anyPlace{s.Pos(), "it is " + typeString(s.Type)})
		}
	}
	return out
}

// fieldNames lists a field's names; an embedded field is named by its type.
func fieldNames(field *ast.Field) []string {
	if len(field.Names) == 0 {
		name, _ := receiverName(selectorBase(field.Type))
		return []string{name}
	}
	var out []string
	for _, n := range field.Names {
		out = append(out, n.Name)
	}
	return out
}

func selectorBase(e ast.Expr) ast.Expr {
	if s, ok := e.(*ast.StarExpr); ok {
		e = s.X
	}
	if s, ok := e.(*ast.SelectorExpr); ok {
		return s.Sel
	}
	return e
}

// anyInSignature checks a signature's parameters and results (its type
// parameters are exempt), allowing a printf helper's args ...any.
func anyInSignature(ft *ast.FuncType) []anyPlace {
	var out []anyPlace
	scan := func(list *ast.FieldList, kind string) {
		if list == nil {
			return
		}
		prev := ""
		for _, field := range list.List {
			names := []string{"(unnamed)"}
			if len(field.Names) > 0 {
				names = fieldNames(field)
			}
			for _, name := range names {
				printf := kind == "parameter" && name == "args" && prev == "format string"
				if _, variadic := field.Type.(*ast.Ellipsis); hasAny(field.Type) && !(printf && variadic) {
					out = append(out, anyPlace{field.Pos(), fmt.Sprintf("%s %s is %s", kind, name, typeString(field.Type))})
				}
				prev = name + " " + typeString(field.Type)
			}
		}
	}
	scan(ft.Params, "parameter")
	scan(ft.Results, "result")
	return out
}

// hasAny reports whether a type expression is or contains any or interface{}.
func hasAny(e ast.Expr) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Ident:
			found = found || n.Name == "any"
		case *ast.InterfaceType:
			found = found || n.Methods == nil || len(n.Methods.List) == 0
		case *ast.Field:
			found = found || hasAny(n.Type) // not its names
			return false
		case *ast.SelectorExpr:
			return false // pkg.any is not the builtin
		}
		return !found
	})
	return found
}

// typeString spells a type expression as written.
func typeString(e ast.Expr) string { return types.ExprString(e) }
