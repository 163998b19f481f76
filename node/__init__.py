"""The local instance of a district or base unit: its app, sync agent and CLI."""
