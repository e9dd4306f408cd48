module example.com/inside

go 1.22
