"""Admin pages of moderation."""
