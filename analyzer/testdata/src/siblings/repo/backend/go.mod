module example.com/root/backend

go 1.22
