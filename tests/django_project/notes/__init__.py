"""The test project's one app: notes members write through a Fish Bot cog."""
