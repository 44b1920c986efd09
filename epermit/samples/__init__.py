"""Sample files the demo uses (README.md says whence)."""
