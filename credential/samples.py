"""Fictitious residents (tests, demo): nobody here exists; the citizen IDs only pass the check digit."""

from __future__ import annotations

import datetime

from credential.model import CredentialType, Holder, Permit

AUTHORITY_CODE = "110105"
AUTHORITY_NAME = "北京市公安局朝阳分局"
DISTRICT = "110105"  # 北京市朝阳区

# 张伟: the default resident, a Han man born in Zhengzhou (410102) living in Wangjing.
ZHANG_WEI = Holder(
    name="张伟",
    name_pinyin="ZHANG WEI",
    sex=1,
    ethnicity=1,
    birth_date=datetime.date(1990, 3, 15),
    citizen_id="410102199003151230",
    address="北京市朝阳区望京街道阜荣街10号院望京花园东区3号楼2单元1501室",
)

# 阿依古丽·艾山: a Uygur woman born in Urumqi (650102); her name shows the minority-name middle dot.
AYIGULI_AISHAN = Holder(
    name="阿依古丽·艾山",
    name_pinyin="AYIGULI AISHAN",
    sex=2,
    ethnicity=5,
    birth_date=datetime.date(1995, 7, 21),
    citizen_id="650102199507213428",
    address="北京市朝阳区三里屯街道工体北路8号院2号楼1单元602室",
)

RESIDENTS = (ZHANG_WEI, AYIGULI_AISHAN)
_NUMBER_PREFIX = {CredentialType.RESIDENCE_PERMIT: "JZZ", CredentialType.RESIDENCE_REGISTRATION: "DJK"}


def sample_permit(
    type: CredentialType = CredentialType.RESIDENCE_PERMIT,
    *,
    resident: int = 0,
    name: str | None = None,
    name_pinyin: str | None = None,
    citizen_id: str | None = None,
    birth_date: datetime.date | None = None,
    portrait_sha256: bytes | None = None,
    document_number: str | None = None,
    valid_from: datetime.date = datetime.date(2026, 1, 5),
    valid_until: datetime.date = datetime.date(2027, 1, 4),
) -> Permit:
    """A permit for RESIDENTS[resident]; keyword arguments override single fields (validated as usual)."""
    base = RESIDENTS[resident]
    holder = Holder(
        name=base.name if name is None else name,
        name_pinyin=base.name_pinyin if name_pinyin is None else name_pinyin,
        sex=base.sex,
        ethnicity=base.ethnicity,
        birth_date=base.birth_date if birth_date is None else birth_date,
        citizen_id=base.citizen_id if citizen_id is None else citizen_id,
        address=base.address,
        portrait_sha256=portrait_sha256,
    )
    number = document_number or f"{_NUMBER_PREFIX[type]}-{DISTRICT}-2026-{resident + 1:06d}"
    return Permit(
        type=type,
        holder=holder,
        document_number=number,
        district=DISTRICT,
        authority_code=AUTHORITY_CODE,
        authority_name=AUTHORITY_NAME,
        valid_from=valid_from,
        valid_until=valid_until,
    )


def sample_permit_valid_at(now: int, type: CredentialType = CredentialType.RESIDENCE_PERMIT, *, resident: int = 0) -> Permit:
    """A sample permit whose year of validity started 30 days before ``now`` (Beijing time).

    For stories and tests that run on the real clock: the fixed default window of sample_permit() ends.
    """
    today = datetime.datetime.fromtimestamp(now, datetime.timezone(datetime.timedelta(hours=8))).date()
    start = today - datetime.timedelta(days=30)
    return sample_permit(type, resident=resident, valid_from=start, valid_until=start + datetime.timedelta(days=364))
