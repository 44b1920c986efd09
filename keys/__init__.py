"""Private keys and certificates: generate, store encrypted at rest, rotate, sign trust lists."""
