module example.com/n

go 1.22

require example.com/y v1.0.0

replace example.com/y => ../y2 // want gowork-shadow `\.\./go.work also uses \./m, whose go.mod replaces example.com/y with directory \.\./m/y: in workspace mode the go command refuses to load the workspace \("conflicting replacements for example.com/y"\), while builds without it \(CI, GOWORK=off\) use directory \.\./y2`
