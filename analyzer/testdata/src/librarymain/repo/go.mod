module example.com/librarymain

go 1.22

require example.com/a v1.0.0

replace example.com/a v1.0.0 => example.com/a v1.0.1
