package pseudo
