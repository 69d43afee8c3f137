"""Admin pages of api_keys."""
