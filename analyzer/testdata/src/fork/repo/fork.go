package fork
