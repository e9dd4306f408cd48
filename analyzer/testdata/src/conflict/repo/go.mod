module example.com/conflict

go 1.22

require example.com/a v1.0.0

replace example.com/a v1.0.0 => example.com/a v1.0.1

replace example.com/a v1.0.0 => example.com/a v1.0.2 // want duplicate "example.com/a v1.0.0 is replaced again, differently than at line 7: the go command refuses to load the module"
