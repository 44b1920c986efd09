"""OfficeData: where one office's data folder keeps its store, keys and settings.

Every office-side command (`serve`, `officers`, `issue`, `audit`, `reissue`, `keys affected`) opens a data
folder through this one object, so that the file names and the "no such folder" message are said once.
On a Redis deployment (`--redis URL`, or EPERMIT_REDIS_URL as for `epermit serve --redis`) the registry is
the Redis store and the folder holds the keys only (``open_registry``; EPERMIT_REDIS_CLUSTER, _PREFIX and
_ALLOW_UNSAFE_DURABILITY as in docs/redis.md). The
folder is private: made 0700 (an existing one tightened to it), and the store's files 0600 (they hold
personal data; issuer.store.sqlite.db keeps them so, -wal and -shm included).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from credential.errors import MalformedError
from credential.jose import parse_compact
from credential.trustlist import MAX_TRUST_LIST_SIZE
from epermit.errors import UsageError
from epermit.private_files import private_folder
from epermit.public_url import checked_public_url, remembered_public_url
from issuer.keyed import KeyedHash
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from issuer.store import Store
from issuer.store.sqlite import SQLiteStore
from keys import KeyRing, load_keyring, load_store_secret, read_passphrase

STORE_FILE = "epermit.sqlite3"
KEYS_DIR = "keys"
PUBLISHED_DIR = "published"  # the last public documents the wallet API served (wallet_api.lastcopies)


TRUE = ("1", "true", "yes")


@dataclass(frozen=True)
class RedisLocation:
    """Where a Redis deployment keeps its registry (the officer and wallet APIs' store)."""

    url: str
    cluster: bool = False
    prefix: str = "{ep}"
    allow_unsafe_durability: bool = False

    @classmethod
    def given(cls, url: str | None, *, cluster: bool, env: Mapping[str, str]) -> RedisLocation | None:
        """From ``--redis``/``--redis-cluster``, else EPERMIT_REDIS_URL; None: the SQLite store of the folder."""
        url = url or env.get("EPERMIT_REDIS_URL", "").strip()
        if not url:
            return None
        return cls(url, cluster or env.get("EPERMIT_REDIS_CLUSTER", "").lower() in TRUE,
                   env.get("EPERMIT_REDIS_PREFIX", "").strip() or "{ep}",
                   env.get("EPERMIT_REDIS_ALLOW_UNSAFE_DURABILITY", "").lower() in TRUE)


def add_location_options(parser: argparse.ArgumentParser, *, data_help: str = "the office's data folder") -> None:
    """--data (the folder: keys/, and the SQLite store unless --redis) and --redis/--redis-cluster."""
    parser.add_argument("--data", type=Path, required=True, help=data_help)
    parser.add_argument("--redis", metavar="URL", help="the registry is on this Redis (default EPERMIT_REDIS_URL; "
                                                       "unset: epermit.sqlite3 in --data); keys stay in --data")
    parser.add_argument("--redis-cluster", action="store_true", help="the Redis URL names a Redis Cluster node")


def office_from_args(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> OfficeData:
    environment = os.environ if env is None else env
    return OfficeData(args.data, RedisLocation.given(getattr(args, "redis", None),
                                                     cluster=getattr(args, "redis_cluster", False), env=environment))


@dataclass(frozen=True)
class OfficeData:
    path: Path
    redis: RedisLocation | None = None

    @property
    def store_path(self) -> Path:
        return self.path / STORE_FILE

    @property
    def keys_dir(self) -> Path:
        return self.path / KEYS_DIR

    @property
    def published_dir(self) -> Path:
        return self.path / PUBLISHED_DIR

    def open_store(self, *, create: bool = False, read_only: bool = False,
                   short_lived_in_memory: bool = False) -> SQLiteStore:
        """The office's registry; ``create`` makes the folder (0700) and an empty store on first use;
        ``read_only`` never writes (nor creates files beside it: issuer.store.sqlite.db), for commands that
        only read; ``short_lived_in_memory``: SQLiteStore's (one serving process only)."""
        if (read_only or not create) and not self.store_path.is_file():
            raise UsageError(f"no registry at {self.store_path} (is --data the office's data folder?)")
        if not read_only:
            private_folder(self.path)
        return SQLiteStore(self.store_path, read_only=read_only, short_lived_in_memory=short_lived_in_memory)

    def open_registry(self, *, create: bool = False, read_only: bool = False) -> Store:
        """The registry: the Redis store of a Redis deployment (which must be durable, as `serve` checks),
        else ``open_store``. ``read_only`` is the SQLite file's: on Redis the commands that only read, read."""
        if self.redis is None:
            return self.open_store(create=create, read_only=read_only)
        from issuer.store.redis import RedisStore  # the redis client only for a Redis deployment

        return RedisStore.from_url(self.redis.url, cluster=self.redis.cluster, prefix=self.redis.prefix,
                                   allow_unsafe_durability=self.redis.allow_unsafe_durability)

    def load_keyring(self, *, env: Mapping[str, str] | None = None, passphrase_file: Path | None = None) -> KeyRing:
        """The office's keys, unlocked with the passphrase from the environment, a file or a prompt."""
        return self.unlock_keys(env=env, passphrase_file=passphrase_file)[0]

    def unlock_keys(self, *, env: Mapping[str, str] | None = None,
                    passphrase_file: Path | None = None) -> tuple[KeyRing, bytes]:
        """``load_keyring`` and the passphrase that opened it, for a caller that opens one more sealed file of
        the key directory (`serve`: the login key) without asking for it twice."""
        if not self.keys_dir.is_dir():
            raise UsageError(f"no keys in {self.keys_dir}; create them with `epermit keys init --dir {self.keys_dir}`")
        passphrase = read_passphrase(env=os.environ if env is None else env, passphrase_file=passphrase_file)
        return load_keyring(self.keys_dir, passphrase), passphrase

    def keyed_hash(self, *, env: Mapping[str, str] | None = None, passphrase_file: Path | None = None) -> KeyedHash:
        """What hashes officer tokens for the store: the key directory's store secret alone (one unlock)."""
        if not self.keys_dir.is_dir():
            raise UsageError(f"no keys in {self.keys_dir}; create them with `epermit keys init --dir {self.keys_dir}`")
        passphrase = read_passphrase(env=os.environ if env is None else env, passphrase_file=passphrase_file)
        return KeyedHash(load_store_secret(self.keys_dir, passphrase))

    def public_url(self, store: Store, given: str | None = None) -> str:
        """The wallet API's public URL: as given, else as this folder remembers it (epermit.public_url), else
        the ``iss`` of the trust list the issuer last published."""
        if given:
            return checked_public_url(given)
        remembered = remembered_public_url(self.path)
        if remembered is not None:
            return remembered
        stored = store.get_trust_list()
        if stored is None:
            raise UsageError("不知道钱包服务的公网地址：请加 --public-url https://…。No public URL known for the "
                             "wallet API (none remembered, no trust list published yet): give --public-url.")
        issuer = parse_compact(stored.token, max_size=MAX_TRUST_LIST_SIZE).payload.get("iss")
        if not isinstance(issuer, str) or not issuer:
            raise MalformedError("the stored trust list has no iss")
        return issuer

    def open_service(self, *, public_url: str | None = None, env: Mapping[str, str] | None = None,
                     passphrase_file: Path | None = None) -> IssuerService:
        """The issuer service over this folder's store and keys (the keys must unlock: no unsigned fallback)."""
        store = self.open_registry()
        keyring = self.load_keyring(env=env, passphrase_file=passphrase_file)
        return IssuerService(store, keyring, IssuerSettings(public_url=self.public_url(store, public_url)))
