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

from shared.accounts import ui as accounts
from shared.accounts.http import provide_caller
from shared.audit import ui as audit
from shared.calendar import ui as calendar
from shared.consolidation import ui as consolidation
from shared.documents import ui as documents
from shared.drafts import ui as drafts
from shared.essays import ui as essays
from shared.members import ui as members
from shared.programmes import ui as programmes
from shared.settings import Settings
from shared.study import ui as study
from shared.surveys import ui as surveys
from shared.ui import home, login, sync
from shared.ui.forms import provide_form
from shared.ui.web import (
    EXCEPTION_HANDLERS,
    STATIC,
    PageCSRFMiddleware,
    after_page,
    page_guard,
    provide_frame,
    template_config,
)
from shared.units import ui as units

PAGES = tuple(
    page
    for module in (
        login,
        home,
        documents,
        calendar,
        essays,
        members,
        study,
        drafts,
        programmes,
        surveys,
        consolidation,
        sync,
        units,
        accounts,
        audit,
    )
    for page in module.PAGES
)


def ui_router(settings: Settings) -> Router:
    """Every page: signed in by the session cookie, role-checked like the API, form posts CSRF-checked."""
    return Router(
        path="/",
        route_handlers=list(PAGES),
        guards=[page_guard],
        dependencies={
            "caller": Provide(provide_caller, sync_to_thread=False),
            "frame": Provide(provide_frame),
            "form": Provide(provide_form),
        },
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
