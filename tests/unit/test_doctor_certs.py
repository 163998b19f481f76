"""`nqsync … check` reads a certificate's end of validity from its DER itself (no dependency the node lacks)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
import trustme

from shared.doctor import _PEM, not_after


@pytest.mark.parametrize(
    "end",
    [
        datetime(2027, 1, 5, 8, 30, 15, tzinfo=UTC),  # before 2050: UTCTime
        datetime(2061, 7, 1, 0, 0, 1, tzinfo=UTC),  # from 2050: GeneralizedTime (RFC 5280 §4.1.2.5)
    ],
)
def test_not_after_reads_both_time_forms_of_a_leaf_and_its_chain(end: datetime) -> None:
    ca = trustme.CA()
    leaf = ca.issue_cert("hub.example.vn", not_after=end)
    pem = b"".join(blob.bytes() for blob in (*leaf.cert_chain_pems, ca.cert_pem))  # a file as nginx's: leaf, then CA
    ends = [not_after(base64.b64decode(b"".join(block.split()))) for block in _PEM.findall(pem)]
    assert ends[0] == end
    assert len(ends) == 2
    assert ends[1] > end, "the CA outlives the leaf: the check reports the first to expire"
