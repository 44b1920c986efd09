"""Redis: the signed status list tokens and trust list as last published (PUT_IF_NOT_OLDER: a later one stays)."""

from __future__ import annotations

from issuer.model import PublishedStatusList
from issuer.store import StoredStatusList, StoredTrustList
from issuer.store.redis.client import RedisKeyspace, flat, guard, hash_fields


class RedisPublication(RedisKeyspace):
    @guard
    def put_published_status_list(self, list_no: int, published: PublishedStatusList, *, generation: int) -> bool:
        fields = {"uri": published.uri, "token": published.token, "etag": published.etag, "iat": published.iat}
        return bool(self._run("PUT_IF_NOT_OLDER", [self._k("published", list_no)],
                              ["generation", generation, *flat(fields)]))

    @guard
    def get_published_status_list(self, list_no: int) -> StoredStatusList | None:
        f = hash_fields(self._r.hgetall(self._k("published", list_no)))
        if not f:
            return None
        return StoredStatusList(PublishedStatusList(f["uri"], f["token"], f["etag"], int(f["iat"])),
                                int(f["generation"]))

    @guard
    def get_trust_list(self) -> StoredTrustList | None:
        f = hash_fields(self._r.hgetall(self._k("trust_list")))
        return StoredTrustList(int(f["version"]), f["fingerprint"], f["token"], int(f["iat"])) if f else None

    @guard
    def put_trust_list(self, trust_list: StoredTrustList) -> bool:
        fields = {"fingerprint": trust_list.fingerprint, "token": trust_list.token, "iat": trust_list.iat}
        return bool(self._run("PUT_IF_NOT_OLDER", [self._k("trust_list")],
                              ["version", trust_list.version, *flat(fields)]))
