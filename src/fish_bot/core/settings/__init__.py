"""Settings: the validator language and the settings manager."""
