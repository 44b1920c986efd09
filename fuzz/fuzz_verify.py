"""Bounded coverage-guided fuzzing of the verifier's one entry point, verifier.verify.verify.

    .venv/bin/python fuzz/fuzz_verify.py            # FUZZ_SECONDS (default 60) of atheris/libFuzzer
    FUZZ_SECONDS=10 .venv/bin/python fuzz/fuzz_verify.py

The corpus (fuzz/corpus/, or FUZZ_CORPUS) is seeded at every run with freshly issued credentials: live and
static QR passes, SD-JWT VCs with and without a KB-JWT, and a few malicious variants. The cache the verifier
reads is a real one (pinned root, trust list, status list) in a temporary folder; the time is fixed.

Each input is one mode byte and a body. The mode picks how the body reaches the verifier, so that mutations
land past the outer encodings too (a byte flip in base45 text rarely survives zlib):
    mode % 4 == 0: the body is the text (UTF-8, errors replaced)
    mode % 4 == 1: "EP1:" + base45(zlib(body))  — the body is the pass's CBOR
    mode % 4 == 2: "EP1:" + base45(body)        — the body is the zlib stream
    mode % 4 == 3: the body is an SD-JWT whose last "~" element is dropped (KB-JWT stripping)
and bit 2 of the mode turns on Policy(require_live=True).

Any exception that is not a CredentialError is a failure: verify() runs with strict=True, so the bug
propagates with its traceback and the process exits non-zero. Without atheris (it builds only on
Linux/x86-64 and macOS wheels), a bounded random-mutation loop over the same corpus runs instead.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import random
import shutil
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path

try:  # optional: `pip install atheris`
    import atheris  # type: ignore[import-untyped,import-not-found,unused-ignore]
except ImportError:  # pragma: no cover - depends on the platform
    atheris = None

instrumented = atheris.instrument_imports(include=["credential", "verifier"]) if atheris else contextlib.nullcontext()
with instrumented:
    from credential.base45 import b45encode
    from credential.errors import CredentialError
    from credential.qrpass import QR_PREFIX
    from verifier.cache import VerifierCache
    from verifier.policy import Policy
    from verifier.verify import verify

ISSUER = "https://permits.example.gov.cn"
STATUS_URI = f"{ISSUER}/statuslists/1"
NOW = 1_780_286_400  # 2026-06-01 12:00 Beijing: inside the sample permit's validity
DAY = 86400
LIVE, STRICT = Policy(), Policy(require_live=True)


def build_world(directory: Path) -> tuple[VerifierCache, list[bytes]]:
    """A real issuing world: keys, a filled verifier cache, and the seed inputs (mode byte + body)."""
    # Imported here, after the instrumented imports above: the issuing side is not what is fuzzed.
    from cryptography.hazmat.primitives.serialization import Encoding

    from credential.base45 import b45decode
    from credential.qrpass import encode_pass, live_qr_text, pass_to_qr_text
    from credential.samples import sample_permit
    from credential.sdjwt import issue_sd_jwt_vc, present
    from credential.statuslist import INVALID, StatusList, sign_status_list_token
    from keys import KeyRing, KeySigner, Purpose

    ring = KeyRing.generate(authority_code="110105", authority_name="北京市公安局朝阳分局", now=NOW - 30 * DAY)
    credential_signer, status_signer = (ring.signer_for(p, now=NOW) for p in (Purpose.CREDENTIAL, Purpose.STATUS))
    holder = KeySigner.generate()
    permit = sample_permit()
    statuses = StatusList(1 << 12, 2)
    statuses.set(9, INVALID)
    cache = VerifierCache(directory)
    cache.pin_root(ring.root_certificate.public_bytes(Encoding.PEM))
    cache.accept_trust_list(ring.trust_list_token(issuer=ISSUER, now=NOW - 3600, version=1,
                                                  status_lists=[STATUS_URI], aggregation_uri=None), NOW)
    cache.accept_status_list(STATUS_URI, sign_status_list_token(statuses, uri=STATUS_URI, signer=status_signer,
                                                                now=NOW - 3600, ttl=300, exp=NOW + 7 * DAY), NOW)
    seeds: list[bytes] = []
    for idx in (7, 9):
        cose = encode_pass(permit, signer=credential_signer, holder_key=holder.public_key,
                           status_uri=STATUS_URI, status_idx=idx, now=NOW - 10 * DAY)
        live = live_qr_text(cose, holder_signer=holder, now=NOW - 5)
        static = pass_to_qr_text(cose)
        sd = issue_sd_jwt_vc(permit, issuer=ISSUER, signer=credential_signer, holder_key=holder.public_key,
                             status_uri=STATUS_URI, status_idx=idx, now=NOW - 10 * DAY, exp=NOW + 180 * DAY)
        shown = present(sd, disclose={"name", "sex"}, holder_signer=holder, aud="landlord", nonce="n", now=NOW - 5)
        seeds += [b"\x00" + t.encode() for t in (live, static, sd, shown)]
        seeds += [b"\x04" + live.encode(), b"\x07" + shown.encode()]
        seeds.append(b"\x01" + zlib.decompress(b45decode(live[4:])))
        seeds.append(b"\x02" + zlib.compress(cose, 9))
    return cache, seeds


def text_of(data: bytes) -> tuple[str, Policy]:
    if not data:
        return "", LIVE
    mode, body = data[0], data[1:]
    policy = STRICT if mode & 4 else LIVE
    kind = mode % 4
    if kind == 1:
        return QR_PREFIX + b45encode(zlib.compress(body, 9)), policy
    if kind == 2:
        return QR_PREFIX + b45encode(body), policy
    text = body.decode("utf-8", errors="replace")
    if kind == 3 and "~" in text:
        text = text[: text.rindex("~") + 1]
    return text, policy


def make_target(cache: VerifierCache) -> Callable[[bytes], None]:
    def one_input(data: bytes) -> None:
        text, policy = text_of(data)
        outcome = verify(text, cache, policy=policy, now=NOW, strict=True)
        if not outcome.reason or not outcome.reason.isprintable():
            raise AssertionError(f"bad reason {outcome.reason!r}")

    return one_input


def write_corpus(corpus: Path, seeds: list[bytes]) -> None:
    corpus.mkdir(parents=True, exist_ok=True)
    for number, seed in enumerate(seeds):
        (corpus / f"seed-{number:02d}").write_bytes(seed)


def _mutate(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op = rng.randrange(5)
        pos = rng.randrange(len(buf) + 1)
        if op == 0 and buf and pos < len(buf):
            buf[pos] = rng.randrange(256)
        elif op == 1 and buf and pos < len(buf):
            del buf[pos]
        elif op == 2:
            buf.insert(pos, rng.randrange(256))
        elif op == 3:
            del buf[pos:]
        elif buf:
            start = rng.randrange(len(buf))
            buf[pos:pos] = buf[start:start + rng.randint(1, 64)]
    return bytes(buf)


def fallback_fuzz(target: Callable[[bytes], None], corpus: Path, seconds: float, seed: int) -> int:
    """Random mutations of the corpus for ``seconds``: not coverage-guided, but bounded and reproducible."""
    rng = random.Random(seed)  # noqa: S311 - reproducible mutations, not secrets
    inputs = [path.read_bytes() for path in sorted(corpus.iterdir()) if path.is_file()]
    runs, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        data = _mutate(rng.choice(inputs), rng)
        try:
            target(data)
        except CredentialError:  # pragma: no cover - verify() returns results for these
            pass
        except Exception:
            crash = corpus.parent / f"crash-{runs}"
            crash.write_bytes(data)
            print(f"fuzz_verify: crash after {runs} runs, input saved to {crash}", file=sys.stderr)
            raise
        runs += 1
    print(f"fuzz_verify: {runs} runs in {seconds:.0f} s without a crash (random mutation, seed {seed})")
    return 0


def main() -> int:
    seconds = int(os.environ.get("FUZZ_SECONDS", "60"))
    corpus = Path(os.environ.get("FUZZ_CORPUS", Path(__file__).resolve().parent / "corpus"))
    tmp = tempfile.mkdtemp(prefix="epermit-fuzz-")
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    cache, seeds = build_world(Path(tmp) / "cache")
    write_corpus(corpus, seeds)
    target = make_target(cache)
    for seed in seeds:  # the seeds themselves must pass before any mutation
        target(seed)
    if atheris is None or os.environ.get("FUZZ_ENGINE") == "random":
        return fallback_fuzz(target, corpus, seconds, int(os.environ.get("FUZZ_SEED", "1")))
    args = [sys.argv[0], f"-max_total_time={seconds}", "-max_len=65536", "-timeout=10", "-rss_limit_mb=2048",
            f"-artifact_prefix={corpus.parent}/", str(corpus)]
    atheris.Setup(args, target)
    atheris.Fuzz()  # exits the process: 0 when the time is up, non-zero on a crash
    return 0  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
