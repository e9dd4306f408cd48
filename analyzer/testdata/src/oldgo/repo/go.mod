module example.com/oldgo

go 1.16

require example.com/a v1.0.0

replace example.com/transitive v1.0.0 => example.com/transitive v1.0.1

replace example.com/a v0.9.0 => example.com/a v1.0.1
