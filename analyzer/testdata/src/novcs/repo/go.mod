module example.com/novcs

go 1.22

require example.com/outside v1.0.0

replace example.com/outside => ../outside
