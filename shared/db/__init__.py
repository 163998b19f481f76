"""Storage: one set of SQLAlchemy tables for SQLite (nodes, embedded hub) and PostgreSQL (production hub)."""
