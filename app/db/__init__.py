"""Database plumbing: the declarative base, column types, engines and migrations."""
