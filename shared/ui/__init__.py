"""The web UI both roles serve at `/`: server-rendered Vietnamese pages over the same services as the JSON API.

Registered on the app by `UIPlugin`: the pages behind the session guard and CSRF check, the templates, and the
stylesheet served locally (offices may be offline; nothing comes from a CDN).
"""

from __future__ import annotations

from litestar import Router
from litestar.config.app import AppConfig
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.plugins import InitPlugin
from litestar.static_files import create_static_files_router

from shared.audit.ui import audit_page
from shared.settings import Settings
from shared.ui import consolidation, documents, essays, home, login, members, study, sync, units
from shared.ui.web import (
    EXCEPTION_HANDLERS,
    STATIC,
    PageCSRFMiddleware,
    after_page,
    page_guard,
    provide_caller,
    template_config,
)

PAGES = (
    login.login_form,
    login.login,
    login.logout,
    home.home,
    documents.documents_page,
    documents.new_document_form,
    documents.create_document,
    documents.document_page,
    essays.essays_page,
    essays.grade,
    essays.import_grades,
    members.members_page,
    members.import_roster,
    study.study_page,
    study.add_session,
    study.add_propaganda,
    consolidation.consolidation_page,
    sync.sync_page,
    units.units_page,
    audit_page,
)


def ui_router(settings: Settings) -> Router:
    """Every page: signed in by the session cookie, role-checked like the API, form posts CSRF-checked."""
    return Router(
        path="/",
        route_handlers=list(PAGES),
        guards=[page_guard],
        dependencies={"caller": Provide(provide_caller, sync_to_thread=False)},
        middleware=[DefineMiddleware(PageCSRFMiddleware, data_dir=settings.data_dir)],
        exception_handlers=EXCEPTION_HANDLERS,
        after_response=after_page,
        include_in_schema=False,
    )


class UIPlugin(InitPlugin):
    """Adds the web UI to an app: its pages, its templates and its stylesheet."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.route_handlers.extend(
            [
                ui_router(self.settings),
                create_static_files_router(path="/static", directories=[STATIC], include_in_schema=False),
            ]
        )
        app_config.template_config = template_config()
        return app_config
