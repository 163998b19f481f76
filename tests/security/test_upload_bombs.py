"""Uploads (issue 15 item 3): a workbook whose sheet XML inflates to a gigabyte is refused before it is unpacked,
through the API and through the page, for both imports (members, essay grades); nothing is imported."""

from __future__ import annotations

import functools
import io
import zipfile
from typing import Any

from shared.core.xlsx import MAX_UPLOAD_BYTES
from tests.domain_harness import Maker
from tests.security.test_web_hardening import XLSX, _state
from tests.ui.conftest import Ui, text_of

GIB = 1024 * 1024 * 1024


@functools.cache
def gigabyte_bomb() -> bytes:
    """A valid-looking .xlsx whose one sheet is 1 GiB of blanks: about 1 MB packed, written in chunks."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b'<?xml version="1.0"?><Types/>')
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(b"<worksheet><sheetData>")
            chunk = b" " * (8 * 1024 * 1024)
            for _ in range(GIB // len(chunk)):
                sheet.write(chunk)
            sheet.write(b"</sheetData></worksheet>")
    return buffer.getvalue()


async def _api(ui: Ui, path: str, content: bytes, **params: str) -> Any:
    return await ui.api.client.post(
        path,
        headers=ui.api.headers[("TU", "admin")],
        params=params,
        files={"data": ("ds.xlsx", content, XLSX)},
    )


def _refused_as_bomb(response: Any) -> None:
    assert response.status_code == 413, (response.status_code, response.text[:300])
    assert response.json()["code"] == "import.zip_bomb"
    assert "giải nén lớn bất thường" in response.json()["message"]


async def test_a_gigabyte_zip_bomb_is_refused_by_every_import_api_and_page(ui: Ui, mk: Maker) -> None:
    bomb = gigabyte_bomb()
    assert len(bomb) < MAX_UPLOAD_BYTES
    doc = await mk.doc("TU")
    before = await _state(ui.api.db)
    unit = str(ui.api.id("H1B1"))
    _refused_as_bomb(await _api(ui, "/api/v1/members/import", bomb, unit=unit))
    _refused_as_bomb(await _api(ui, "/api/v1/essays/import", bomb, document=doc["id"], unit=unit))
    for page in (f"/dang-vien/nhap?unit={unit}", f"/bai-thu-hoach/nhap?document={doc['id']}&unit={unit}"):
        response = await ui.post(page, ("TU", "admin"), files={"file": ("ds.xlsx", bomb, XLSX)})
        assert response.status_code < 500, (page, response.status_code)
        assert "giải nén lớn bất thường" in text_of(response.text), page
    assert await _state(ui.api.db) == before


async def test_an_oversize_grades_file_is_refused_in_words_through_the_api_and_the_page(ui: Ui, mk: Maker) -> None:
    doc = await mk.doc("TU")
    before = await _state(ui.api.db)
    big = b"PK" + b"\0" * (MAX_UPLOAD_BYTES + 10)
    response = await _api(ui, "/api/v1/essays/import", big, document=doc["id"])
    assert response.status_code == 413
    assert response.json()["code"] == "import.too_large"
    assert "quá giới hạn 5 MB" in response.json()["message"]
    page = await ui.post(
        f"/bai-thu-hoach/nhap?document={doc['id']}", ("TU", "admin"), files={"file": ("diem.xlsx", big, XLSX)}
    )
    assert "quá giới hạn 5 MB" in text_of(page.text)
    assert await _state(ui.api.db) == before
