"""The files a streamed `epermit issue` writes as it goes: the PIN sheet, the SMS file, the rejected rows.

Each grows under a fixed name beside its target (``.NAME.partial``, 0600) a batch at a time, flushed to disk
before the batch is stored (issuer.bulk.run), and is put in place by a rename once every batch is stored.
The names are fixed so that a run taken up after a kill finds them and cuts them back to the sizes the
journal gave for the last stored batch: the PINs of stored offers are kept, those of a batch that never
got stored are cut away. The sheet keeps its layout (every tile, then from a new page every PIN slip):
tiles and slips grow in two partial files, joined into the sheet at the end.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from credential.model import CredentialType
from epermit.cli.rejected import rejected_header, rejected_lines
from epermit.cli.sheet import SHEET_END, SmsRow, pickup_tile, pin_slip, sheet_middle, sheet_top, sms_csv_text
from epermit.private_files import check_replaceable, publish_staged
from issuer.bulk import BadRow, IssuedRow

SHOWN_BAD = 100  # rejected rows named on stderr; the rest are in the rejected file


class GrowingFile:
    """A file appended to under ``.NAME[part].partial`` beside ``target``, then renamed onto it."""

    def __init__(self, target: Path, *, overwrite: bool, part: str = "") -> None:
        self.target = target
        self.overwrite = overwrite
        self.temporary = target.with_name(f".{target.name}{part}.partial")
        self._fd = -1

    def create(self) -> None:
        check_replaceable(self.target, overwrite=self.overwrite)  # before anything is stored
        self._fd = os.open(self.temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)

    def reopen(self, size: int) -> None:
        """Take up the file of an interrupted run, cut back to ``size`` bytes."""
        self._fd = os.open(self.temporary, os.O_WRONLY | os.O_NOFOLLOW)
        os.ftruncate(self._fd, size)
        os.lseek(self._fd, size, os.SEEK_SET)

    def append(self, text: str) -> None:
        data = memoryview(text.encode("utf-8"))
        while data:
            data = data[os.write(self._fd, data):]

    def sync(self) -> int:
        os.fsync(self._fd)
        return os.lseek(self._fd, 0, os.SEEK_CUR)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def publish(self) -> None:
        self.close()
        publish_staged(self.temporary, self.target, overwrite=self.overwrite)

    def discard(self) -> None:
        self.close()
        try:
            os.unlink(self.temporary)
        except FileNotFoundError:
            pass


class BulkOutputs:
    """issuer.bulk.report.Outputs for `epermit issue`: the sheet (``sheet``) and the SMS file (``sms``)."""

    def __init__(self, *, sheet: Path | None, sms: Path | None, public_url: str, title: str) -> None:
        self.public_url, self.title = public_url, title
        self.sheet = None if sheet is None else GrowingFile(sheet, overwrite=True)
        self.tiles = None if sheet is None else GrowingFile(sheet, overwrite=True, part=".tiles")
        self.slips = None if sheet is None else GrowingFile(sheet, overwrite=True, part=".slips")
        self.sms = None if sms is None else GrowingFile(sms, overwrite=False)
        self.kinds: set[CredentialType] = set()
        self.texted = 0

    @staticmethod
    def named(sheet: Path | None, sms: Path | None) -> str:
        return f"sheet={'' if sheet is None else sheet.resolve()};sms={'' if sms is None else sms.resolve()}"

    def _files(self) -> dict[str, GrowingFile]:
        found = {"tiles": self.tiles, "slips": self.slips, "sms": self.sms}
        return {name: file for name, file in found.items() if file is not None}

    def open(self, sizes: Mapping[str, int] | None) -> None:
        if sizes is None:
            if self.sheet is not None:
                self.sheet.create()  # refused now (a folder, a link) rather than at the end
                self.sheet.discard()
            try:
                for file in self._files().values():
                    file.create()
                if self.sms is not None:
                    self.sms.append(sms_csv_text([], header=True)[0])
            except BaseException:
                self.discard()
                raise
            return
        for name, file in self._files().items():
            target = self.sheet.target if self.sheet is not None and name in ("tiles", "slips") else file.target
            if os.path.lexists(file.temporary):
                file.reopen(sizes[name])
            elif not target.is_file():  # gone, and not put in place by the interrupted run either
                raise FileNotFoundError(f"{file.temporary} is gone: the PINs of the batches issued so far with it")
        order = list(CredentialType)
        self.kinds = {t for t in order if int(sizes.get("kinds", 0)) & (1 << order.index(t))}
        self.texted = int(sizes.get("texted", 0))

    def write(self, issued: Sequence[IssuedRow]) -> dict[str, int]:
        if self.tiles is not None and self.slips is not None:
            self.tiles.append("".join(pickup_tile(row, self.public_url) for row in issued))
            self.slips.append("".join(pin_slip(row) for row in issued))
            self.kinds |= {row.credential_type for row in issued}
        if self.sms is not None:
            text, written = sms_csv_text([SmsRow.of_bulk(row, self.public_url) for row in issued if row.phone],
                                         header=False)
            self.sms.append(text)
            self.texted += written
        sizes = {name: file.sync() for name, file in self._files().items()}
        kinds = sum(1 << n for n, t in enumerate(CredentialType) if t in self.kinds)
        return {**sizes, "kinds": kinds, "texted": self.texted}

    def finish(self) -> None:
        # A partial file that is gone was put in place by the interrupted run (``open`` checked).
        if self.sheet is not None and self.tiles is not None and self.slips is not None \
                and os.path.lexists(self.tiles.temporary):
            self.tiles.close()
            self.slips.close()
            self.sheet.create()
            self.sheet.append(sheet_top(self.kinds, self.title))
            self._copy(self.tiles)
            self.sheet.append(sheet_middle(self.title))
            self._copy(self.slips)
            self.sheet.append(SHEET_END)
            self.sheet.sync()
            self.sheet.publish()
            self.tiles.discard()
            self.slips.discard()
        if self.sms is not None and os.path.lexists(self.sms.temporary):
            self.sms.sync()
            self.sms.publish()

    def _copy(self, part: GrowingFile) -> None:
        assert self.sheet is not None
        with part.temporary.open("rb") as source, os.fdopen(os.dup(self.sheet._fd), "wb") as out:
            shutil.copyfileobj(source, out, 1 << 20)

    def discard(self) -> None:
        for file in (self.sheet, *self._files().values()):
            if file is not None:
                file.discard()


class RejectedFile:
    """issuer.bulk.report.Rejects for `epermit issue`: each bad row named on stderr (the first SHOWN_BAD) and
    written to the rejected-rows CSV (epermit.cli.rejected), started at the first bad row."""

    def __init__(self, target: Path, csv_name: Path, header: Sequence[str]) -> None:
        self.file = GrowingFile(target, overwrite=True)
        self.csv_name = csv_name
        self.header = header
        self.count = 0

    def write(self, bad: BadRow) -> None:
        if self.count < SHOWN_BAD:
            print(f"{self.csv_name}:{bad.line}: {bad.reason}", file=sys.stderr)
        if self.count == 0:
            self.file.create()
            self.file.append(rejected_header(self.header))
        self.file.append(rejected_lines(self.header, [bad]))
        self.count += 1

    def finish(self) -> None:
        if self.count:
            if self.count > SHOWN_BAD:
                print(f"… {self.count - SHOWN_BAD} more bad row(s) in {self.file.target}", file=sys.stderr)
            self.file.sync()
            self.file.publish()

    def discard(self) -> None:
        self.file.discard()
