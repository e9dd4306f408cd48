package duplicate
