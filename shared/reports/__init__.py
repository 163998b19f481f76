"""Consolidated review reports (D20, D26): figures over a subtree, their .xlsx and .docx forms, the jobs."""
