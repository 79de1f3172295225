"""Built-in feature cogs, one package each."""
