"""Office staff do their work through pages, not HTTP requests (issue 12): every write route of the API has a page
form that does the same write, and a new API write route fails this test until it gets one (or is listed, with its
reason, as still missing)."""

from __future__ import annotations

from pathlib import Path

from shared.app import create_app
from shared.settings import DatabaseSettings, Settings

# API write route → the page route whose form does it.
PAGE_FOR = {
    "POST /api/v1/action-programmes": "POST /chuong-trinh",
    "PATCH /api/v1/action-programmes/{record_id:uuid}": "POST /chuong-trinh/{programme_id:uuid}/sua",
    "DELETE /api/v1/action-programmes/{record_id:uuid}": "POST /chuong-trinh/{programme_id:uuid}/rut",
    "POST /api/v1/programme-progress": "POST /chuong-trinh/{programme_id:uuid}/tien-do",
    "POST /api/v1/auth/login": "POST /dang-nhap",
    "POST /api/v1/auth/logout": "POST /dang-xuat",
    "POST /api/v1/auth/logout-all": "POST /dang-xuat-moi-noi",
    "POST /api/v1/auth/password": "POST /doi-mat-khau",
    "POST /api/v1/documents": "POST /van-ban/moi",
    "PATCH /api/v1/documents/{record_id:uuid}": "POST /van-ban/{doc_id:uuid}/sua",
    "DELETE /api/v1/documents/{record_id:uuid}": "POST /van-ban/{doc_id:uuid}/rut",
    "POST /api/v1/essay-templates": "POST /bai-thu-hoach/mau",
    "PATCH /api/v1/essay-templates/{record_id:uuid}": "POST /bai-thu-hoach/mau",
    "DELETE /api/v1/essay-templates/{record_id:uuid}": "POST /bai-thu-hoach/mau/{template_id:uuid}/rut",
    "POST /api/v1/essays": "POST /bai-thu-hoach/cham-theo-danh-sach",
    "POST /api/v1/essays/import": "POST /bai-thu-hoach/nhap",
    "PATCH /api/v1/essays/{record_id:uuid}": "POST /bai-thu-hoach/{essay_id:uuid}/sua",
    "DELETE /api/v1/essays/{record_id:uuid}": "POST /bai-thu-hoach/{essay_id:uuid}/xoa",
    "POST /api/v1/members": "POST /dang-vien/them",
    "POST /api/v1/members/import": "POST /dang-vien/nhap",
    "PATCH /api/v1/members/{record_id:uuid}": "POST /dang-vien/{member_id:uuid}/sua",
    "DELETE /api/v1/members/{record_id:uuid}": "POST /dang-vien/{member_id:uuid}/roi",
    "POST /api/v1/study-sessions": "POST /hoc-tap/buoi-hoc",
    "PATCH /api/v1/study-sessions/{record_id:uuid}": "POST /hoc-tap/{slug:str}/{record_id:uuid}",
    "DELETE /api/v1/study-sessions/{record_id:uuid}": "POST /hoc-tap/{slug:str}/{record_id:uuid}/xoa",
    "POST /api/v1/propaganda": "POST /hoc-tap/tuyen-truyen",
    "PATCH /api/v1/propaganda/{record_id:uuid}": "POST /hoc-tap/{slug:str}/{record_id:uuid}",
    "DELETE /api/v1/propaganda/{record_id:uuid}": "POST /hoc-tap/{slug:str}/{record_id:uuid}/xoa",
    "POST /api/v1/questionnaires": "POST /khao-sat",
    "POST /api/v1/survey-respondents": "POST /khao-sat/{questionnaire_id:uuid}/nguoi-tra-loi",
    "POST /api/v1/survey-responses": "POST /khao-sat/{questionnaire_id:uuid}/phieu",
    "POST /api/v1/report-drafts": "POST /bao-cao/moi",
    "POST /api/v1/report-drafts/{draft_id:uuid}/versions": "POST /bao-cao/{draft_id:uuid}/phien-ban",
    "POST /api/v1/report-drafts/{draft_id:uuid}/submit": "POST /bao-cao/{draft_id:uuid}/trinh",
    "POST /api/v1/report-drafts/{draft_id:uuid}/approve": "POST /bao-cao/{draft_id:uuid}/thong-qua",
    "POST /api/v1/report-drafts/{draft_id:uuid}/issue": "POST /bao-cao/{draft_id:uuid}/ban-hanh",
    "POST /api/v1/report-meetings": "POST /bao-cao/{draft_id:uuid}/hoi-nghi",
    "POST /api/v1/report-comments": "POST /bao-cao/{draft_id:uuid}/gop-y",
    "POST /api/v1/report-decisions": "POST /bao-cao/quyet-dinh",
    "POST /api/v1/review-overrides": "POST /lich-so-ket/van-ban/{doc_id:uuid}/dieu-chinh",
    "PATCH /api/v1/review-overrides/{record_id:uuid}": "POST /lich-so-ket/dieu-chinh/{override_id:uuid}/sua",
    "DELETE /api/v1/review-overrides/{record_id:uuid}": "POST /lich-so-ket/dieu-chinh/{override_id:uuid}/rut",
    "POST /api/v1/review-plans": "POST /lich-so-ket/ke-hoach",
    "PATCH /api/v1/review-plans/{plan_id:uuid}": "POST /lich-so-ket/ke-hoach/{plan_id:uuid}/sua",
    "POST /api/v1/review-projects": "POST /lich-so-ket/de-an",
    "PATCH /api/v1/review-projects/{record_id:uuid}": "POST /lich-so-ket/de-an/{project_id:uuid}/sua",
    "POST /api/v1/review-reports": "POST /lich-so-ket/da-to-chuc",
    "DELETE /api/v1/review-reports/{record_id:uuid}": "POST /lich-so-ket/da-to-chuc/{report_id:uuid}/rut",
    "POST /api/v1/users": "POST /tai-khoan/them",
    "PATCH /api/v1/users/{user_id:uuid}": "POST /tai-khoan/{user_id:uuid}/vai-tro",
    "DELETE /api/v1/users/{user_id:uuid}/sessions": "POST /tai-khoan/{user_id:uuid}/dang-xuat",
}
# Writes with no page yet, each with what a user does meanwhile. Shrink this list; never grow it silently.
MISSING: dict[str, str] = {}


def _write_routes() -> tuple[set[str], set[str]]:
    app = create_app(Settings(data_dir=Path("."), database=DatabaseSettings(url="sqlite+aiosqlite://")), role="hub")
    api: set[str] = set()
    pages: set[str] = set()
    for r in app.routes:
        for method in getattr(r, "methods", ()):
            if method in ("POST", "PATCH", "PUT", "DELETE"):
                (api if r.path.startswith("/api/") else pages).add(f"{method} {r.path}")
    return api, pages


def test_every_api_write_has_a_page_that_does_it() -> None:
    api, pages = _write_routes()
    without = sorted(api - set(PAGE_FOR) - set(MISSING))
    assert not without, f"API writes with no page form (add one, then map it in PAGE_FOR): {without}"
    stale = sorted((set(PAGE_FOR) | set(MISSING)) - api)
    assert not stale, f"mapped API routes that no longer exist: {stale}"
    absent = sorted({page for page in PAGE_FOR.values() if page not in pages})
    assert not absent, f"page routes named here that the UI does not serve: {absent}"
    done = sorted(set(PAGE_FOR) & set(MISSING))
    assert not done, f"now have a page; remove them from MISSING: {done}"
