package retry

import (
	"net/http"
	"reflect"
	"testing"
)

// TestCloneCopiesEveryKnob guards Clone against fields added later: every
// exported field of Client must survive a Clone.
func TestCloneCopiesEveryKnob(t *testing.T) {
	typ := reflect.TypeOf(Client{})
	src := reflect.New(typ).Elem()
	for i := 0; i < typ.NumField(); i++ {
		f := src.Field(i)
		if !typ.Field(i).IsExported() {
			continue
		}
		switch f.Kind() {
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Int, reflect.Int64:
			f.SetInt(7)
		case reflect.Pointer, reflect.Func, reflect.Interface:
			if f.Kind() == reflect.Interface {
				f.Set(reflect.ValueOf(http.DefaultTransport))
			} else if f.Kind() == reflect.Pointer {
				f.Set(reflect.New(f.Type().Elem()))
			} else {
				f.Set(reflect.MakeFunc(f.Type(), func([]reflect.Value) []reflect.Value {
					var out []reflect.Value
					for j := 0; j < f.Type().NumOut(); j++ {
						out = append(out, reflect.Zero(f.Type().Out(j)))
					}
					return out
				}))
			}
		default:
			t.Fatalf("field %s has kind %s: teach this test about it", typ.Field(i).Name, f.Kind())
		}
	}
	orig := src.Addr().Interface().(*Client)
	clone := reflect.ValueOf(orig.Clone()).Elem()
	for i := 0; i < typ.NumField(); i++ {
		if !typ.Field(i).IsExported() {
			continue
		}
		if clone.Field(i).IsZero() {
			t.Errorf("Clone dropped field %s", typ.Field(i).Name)
		}
	}
}
