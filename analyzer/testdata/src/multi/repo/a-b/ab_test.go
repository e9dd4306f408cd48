package ab
