"""Sign-in accounts of an instance, their roles and sessions (D27)."""
