"""The routes of `shared/documents/` under `/api/v1`: HTTP only, over `shared.documents.service`."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from shared.core.scope import (
    Caller,
)
from shared.db.engine import Database
from shared.documents import service
from shared.documents.schemas import Document, DocumentCreate, DocumentUpdate


class DocumentController(Controller):
    path = "/documents"
    tags = ["documents"]  # noqa: RUF012

    @get("/")
    async def list_documents(
        self,
        state: State,
        caller: NamedDependency[Caller],
        unit: FromQuery[uuid.UUID | None] = None,
        number: FromQuery[str | None] = None,
        after: FromQuery[uuid.UUID | None] = None,
        limit: FromQuery[int] = 200,
    ) -> list[Document]:
        """Documents sent to a unit (the caller's by default) or entered in its subtree (D4, D6)."""
        db: Database = state.db
        async with db.read() as conn:
            return await service.list_documents(conn, caller, unit, number, after, limit)

    @post("/")
    async def create(self, state: State, caller: NamedDependency[Caller], data: JSONBody[DocumentCreate]) -> Document:
        """Register a document entered by the caller's committee (or one in its subtree)."""
        db: Database = state.db
        async with db.write() as conn:
            return await service.register_document(conn, caller, data)

    @get("/{doc_id:uuid}")
    async def get_document(
        self, state: State, caller: NamedDependency[Caller], doc_id: FromPath[uuid.UUID]
    ) -> Document:
        db: Database = state.db
        async with db.read() as conn:
            return await service.get_document(conn, caller, doc_id)

    @patch("/{doc_id:uuid}")
    async def edit(
        self,
        state: State,
        caller: NamedDependency[Caller],
        doc_id: FromPath[uuid.UUID],
        data: JSONBody[DocumentUpdate],
    ) -> Document:
        """Correct a document; only its committee's instance writes it (single writer)."""
        db: Database = state.db
        async with db.write() as conn:
            return await service.edit_document(conn, caller, doc_id, data)

    @delete("/{doc_id:uuid}", status_code=204)
    async def remove(self, state: State, caller: NamedDependency[Caller], doc_id: FromPath[uuid.UUID]) -> None:
        """Withdraw a document entered by mistake (a tombstone that travels down like the document)."""
        db: Database = state.db
        async with db.write() as conn:
            await service.remove_document(conn, caller, doc_id)

    @get("/{doc_id:uuid}/lineage")
    async def lineage(
        self, state: State, caller: NamedDependency[Caller], doc_id: FromPath[uuid.UUID]
    ) -> list[Document]:
        """The chain of documents this one continues or replaces, and those that continue or replace it (D7)."""
        db: Database = state.db
        async with db.read() as conn:
            return await service.document_lineage(conn, caller.unit, doc_id)


ROUTES = (DocumentController,)
