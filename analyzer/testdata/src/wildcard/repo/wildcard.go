package wildcard
