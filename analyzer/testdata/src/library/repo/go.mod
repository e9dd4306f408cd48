module example.com/library

go 1.22

require example.com/a v1.0.0

replace example.com/a v1.0.0 => example.com/a v1.0.1 // want library "example.com/library has no main package.*consumers do not get this replacement of example.com/a"
