"""The routes of `shared/documents/` under `/api/v1`: the generic record routes, a list searchable by number
(D5a), and a document's lineage (D7)."""

import uuid

from litestar import Router, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from shared.api.resource import Api, Viewed, record_routes
from shared.documents import service
from shared.documents.schemas import Document


@get("/", summary="List documents")
async def list_documents(
    api: NamedDependency[Api],
    unit: Viewed = None,
    number: FromQuery[str | None] = None,
    after: FromQuery[uuid.UUID | None] = None,
    limit: FromQuery[int] = 200,
) -> list[Document]:
    """Documents sent to a unit (the caller's by default) or entered in its subtree (D4, D6); `number` as
    written (`Số: 15 - NQ/TU` finds 15-NQ/TU, D5a)."""
    return await api.read(lambda conn: service.list_documents(conn, api.caller, unit, number, after, limit))


@get("/{record_id:uuid}/lineage")
async def lineage(api: NamedDependency[Api], record_id: FromPath[uuid.UUID]) -> list[Document]:
    """The chain of documents this one continues or replaces, and those that continue or replace it (D7)."""
    return await api.read(lambda conn: service.document_lineage(conn, api.caller.unit, record_id))


ROUTES: tuple[Router, ...] = (
    record_routes(
        "/documents",
        service.DOCUMENTS,
        tag="documents",
        listable=False,
        extra=[list_documents, lineage],
        docs={
            "create": "Register a document entered by the caller's committee (or one in its subtree), checked by "
            "D5-D7.",
            "revise": "Correct a document; only its committee's instance writes it (single writer).",
            "delete": "Withdraw a document entered by mistake (a tombstone that travels down like the document).",
        },
    ),
)
