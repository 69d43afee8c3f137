"""PostgreSQL backend for the back office: Django's own, plus what the Drizzle contract needs."""
