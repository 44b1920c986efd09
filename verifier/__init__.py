"""Offline verification for landlords and employers: trust and status list cache, sync, QR decoding, CLI."""
