"""The wire format is pinned: a change to these bytes breaks nodes already in the field (docs/sync-protocol.md)."""

from __future__ import annotations

import os
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from shared.essays.records import EssayGradeRecord
from shared.settings import SyncSettings
from shared.sync.agent import backoff
from shared.sync.protocol import (
    Batch,
    PullRequest,
    PullResponse,
    PushRequest,
    PushResponse,
    Refused,
    Stale,
    decoder,
    encoder,
    raw_array,
)

GOLDEN = Path(__file__).parent.parent / "golden"
U1 = uuid.UUID("01900000-0000-7000-8000-000000000001")
U2 = uuid.UUID("01900000-0000-7000-8000-000000000002")
GRADE = EssayGradeRecord(
    id=U1,
    owner=U2,
    audience=None,
    rev=3,
    deleted=False,
    member=U1,
    member_unit=U2,
    document=U1,
    attempt=2,
    score=Decimal("8.5"),
    band="Khá",
    graded_on=date(2025, 3, 1),
    obligation="obliged",
)
MESSAGES = {
    "pull_request": PullRequest(protocol=1, cursor=42, scope="abc", types=["unit", "essay_grade"]),
    "pull_response": PullResponse(
        cursor=43, more=False, scope="abc", batches=[Batch("essay_grade", raw_array([encoder.encode(GRADE)]))]
    ),
    "push_request": PushRequest(
        protocol=1, after=10, upto=11, batches=[Batch("essay_grade", raw_array([encoder.encode(GRADE)]))], pending=5
    ),
    "push_response": PushResponse(
        acked=11,
        stored=0,
        ignored=1,
        refused=[Refused("essay_grade", U1, 3, "lý do")],
        stale=[Stale("essay_grade", U2, 4)],
    ),
}


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_wire_format_matches_the_golden_file(name: str) -> None:
    encoded = encoder.encode(MESSAGES[name])
    path = GOLDEN / f"{name}.msgpack.hex"
    if os.environ.get("NQSYNC_UPDATE_GOLDEN") == "1":
        path.write_text(encoded.hex() + "\n")
    assert encoded.hex() == path.read_text().strip(), "the wire format changed: bump PROTOCOL or keep it compatible"
    assert decoder.decode(encoded) == MESSAGES[name]


def test_an_older_node_reads_a_newer_record_with_extra_trailing_fields() -> None:
    class Newer(EssayGradeRecord, frozen=True):
        reviewer: str = ""

    newer = Newer(**msgspec.structs.asdict(GRADE), reviewer="Ban Tuyên giáo")
    assert msgspec.msgpack.decode(encoder.encode(newer), type=EssayGradeRecord) == GRADE


def test_the_pulls_push_cursor_and_acknowledgement_are_read_past_by_a_side_that_predates_them() -> None:
    class OldPullRequest(msgspec.Struct, tag_field="msg", tag="pull"):
        protocol: int
        cursor: int
        scope: str = ""

    class OldPullResponse(msgspec.Struct, tag_field="msg", tag="pulled"):
        cursor: int
        more: bool
        scope: str

    request = msgspec.msgpack.decode(encoder.encode(PullRequest(protocol=1, cursor=7, pushed=5)), type=OldPullRequest)
    assert (request.cursor, request.scope) == (7, "")
    reply = PullResponse(cursor=9, more=False, scope="s", batches=[], acked=12)
    assert msgspec.msgpack.decode(encoder.encode(reply), type=OldPullResponse).cursor == 9
    assert decoder.decode(encoder.encode(reply)) == reply


def test_raw_array_builds_the_same_bytes_as_encoding_a_list() -> None:
    for n in (0, 1, 15, 16, 70000):
        items = [encoder.encode(i) for i in range(n)]
        assert bytes(raw_array(items)) == encoder.encode(list(range(n)))


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    settings = SyncSettings(interval_seconds=180, max_backoff_seconds=900)
    assert backoff(0, settings) == 180
    assert [backoff(n, settings, rand=lambda: 1.0) for n in (1, 2, 3)] == [5.0, 10.0, 20.0]
    assert backoff(3, settings, rand=lambda: 0.0) == 10.0
    assert backoff(20, settings, rand=lambda: 1.0) == 900
