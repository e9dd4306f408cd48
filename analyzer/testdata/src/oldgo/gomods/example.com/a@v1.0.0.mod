module example.com/a

require example.com/transitive v1.0.0
