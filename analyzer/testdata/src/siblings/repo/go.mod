module example.com/root

go 1.22

require (
	example.com/root/backend v0.0.0-00010101000000-000000000000
	example.com/sdk v1.44.0
	gopkg.in/alecthomas/kingpin.v2 v2.2.6
)

replace example.com/root/backend => ./backend
