module example.com/out
