"""The consolidation page says exactly what its review counts are (D21, D25a, D25b): which units are expected (the
committees and base organisations of the subtree, the level itself included), that a unit counts once it recorded
holding the review, and on time by its own level's due date, late, overdue or not yet due."""

from __future__ import annotations

from tests.domain_harness import Maker
from tests.ui.conftest import Ui, text_of


async def test_d21_d25b_the_review_counts_say_which_units_and_timely_or_late(ui: Ui, mk: Maker) -> None:
    doc = await mk.doc("TU", signed_on="2021-03-01")
    # Bottom-up (D21, D25a): bases are due 02/02/2024, districts 16/02/2024, the province 01/03/2024.
    await mk.report("H1B1", doc, held_on="2024-01-20")
    await mk.report("H1B2", doc, held_on="2024-02-29")
    figures = await ui.api.ok("GET", "/api/v1/consolidations", params={"document": doc["id"], "kind": "preliminary"})
    counts = figures["figures"]["reports"]
    # TU, H1, H2, H1B1, H1B2, H2B1 and QSB1 (not flagged armed forces); QS is, and the cell reports with its base.
    assert (counts["expected"], counts["received"], counts["on_time"], counts["late"]) == (7, 2, 1, 1)
    page = text_of(await ui.page(f"/tong-hop?document={doc['id']}&kind=preliminary"))
    assert "Báo cáo đã nhận" not in page, "the count is of reviews held, not of report drafts received"
    assert "Các đơn vị đã tổ chức sơ kết (D21, D25b)" in page
    assert "Đơn vị đã tổ chức sơ kết / phải tổ chức 2/7" in page
    assert "Trong đó đúng hạn của cấp mình 1 Trong đó muộn hơn hạn 1" in page
    assert "Quá hạn, chưa tổ chức 5 Chưa đến hạn 0" in page
    assert "Tính 7 đơn vị phải tự tổ chức sơ kết: các cấp ủy và tổ chức cơ sở đảng của Đơn vị TU" in page
    assert "kể cả Đơn vị TU (dòng «cấp mình»), theo tổ chức ngày 01/03/2024" in page
    assert "đã ghi ở trang «Sơ kết, tổng kết đã tổ chức»" in page
    assert "Đơn vị H1 3 2 1 1 1 66,7% 33,3%" in page, "H1's row: itself and its two bases"
    assert "Đơn vị tổ chức sơ kết muộn hoặc quá hạn chưa tổ chức, chưa có báo cáo (6)" in page
    # The other review of the same document is counted on its own: nothing recorded for it yet.
    early = text_of(await ui.page(f"/tong-hop?document={doc['id']}&kind=final"))
    assert "Đơn vị đã tổ chức tổng kết / phải tổ chức 0/7" in early
