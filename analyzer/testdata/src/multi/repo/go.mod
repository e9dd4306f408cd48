module example.com/multi

go 1.25

ignore ./a-a

require example.com/n v1.0.0

replace example.com/n v1.0.0 => example.com/n v1.0.0 // want noop "with itself"
