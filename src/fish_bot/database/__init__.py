"""The data layer: DatabaseService (engine, sessions, transactions), controllers, models."""
