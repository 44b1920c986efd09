"""The Redis Store in one-concept parts, composed into issuer.redis_store.RedisStore (one client, one prefix)."""
