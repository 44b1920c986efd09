"""The last copy of each public document the wallet API served: in memory, and in a folder when it has one.

While the store is unavailable (a Redis outage, a full SQLite disk) the public documents are served from
here, so that verifiers keep syncing: they are signed, and valid for days. The folder (the data folder's
``published/``, or EPERMIT_PUBLISHED_DIR) outlives the process, so a process that has not served a document
since it started still has the last one: a restart during an outage is no longer a 503. The documents are
public, so the files are 0644; each is written to a temporary name and renamed (a reader sees a whole file),
and only when its text changed. A failure to write (the full disk) is logged and the document served all the
same; a file that cannot be read back as a document is ignored.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from pathlib import Path

log = logging.getLogger(__name__)

MAX_DOCUMENT_BYTES = 16 * 1024 * 1024  # a status list of millions of entries compresses to well under this


class LastCopies:
    """``remember(name, text)`` after serving a document; ``recall(name)`` when the store cannot give it.
    ``name`` is a file name chosen by the caller (letters, digits, ``.``, ``-``)."""

    def __init__(self, folder: Path | None = None) -> None:
        self._folder = folder
        self._memory: dict[str, str] = {}
        self._tried: dict[str, str] = {}  # the text last written (or attempted) per name
        self._lock = threading.Lock()

    def remember(self, name: str, text: str) -> None:
        with self._lock:
            self._memory[name] = text
            if self._folder is None or self._tried.get(name) == text:
                return
            self._tried[name] = text
        try:
            self._write(name, text)
        except OSError as exc:  # the documents are still served; the copy on disk is just older
            log.warning("cannot keep a copy of %s in %s: %s", name, self._folder, exc)

    def recall(self, name: str) -> str | None:
        with self._lock:
            if name in self._memory:
                return self._memory[name]
        if self._folder is None:
            return None
        try:
            with open(self._folder / name, "rb") as handle:
                data = handle.read(MAX_DOCUMENT_BYTES + 1)
            if len(data) > MAX_DOCUMENT_BYTES:
                raise ValueError("too large")
            text = data.decode("utf-8")
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("ignoring the kept copy %s in %s: %s", name, self._folder, exc)
            return None
        with self._lock:
            self._memory.setdefault(name, text)
            self._tried.setdefault(name, text)
        return text

    def _write(self, name: str, text: str) -> None:
        assert self._folder is not None
        self._folder.mkdir(mode=0o755, parents=True, exist_ok=True)
        temporary = self._folder / f".{name}.{secrets.token_hex(6)}.partial"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            with open(fd, "wb") as out:
                out.write(text.encode("utf-8"))
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self._folder / name)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
