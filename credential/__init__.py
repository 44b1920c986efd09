"""epermit's format core: what the bytes of a residence permit credential mean. No I/O."""
