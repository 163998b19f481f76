"""The list-export helper moved to the UI shell (`shared.ui.export`); kept so older imports still work."""

from shared.ui.export import XLSX, xlsx_response

__all__ = ["XLSX", "xlsx_response"]
