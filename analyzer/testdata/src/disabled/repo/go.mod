module example.com/disabled

go 1.22

require example.com/a v1.0.0

replace example.com/a v1.0.0 => example.com/a v1.0.0

replace example.com/gone => example.com/gone v1.0.0
