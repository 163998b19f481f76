"""Consolidated review figures over a subtree (D20, D26) and their .xlsx and .docx forms."""
