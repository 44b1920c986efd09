"""Benchmarks behind `make bench`: ratios against the raw cryptography underneath and against peers."""
