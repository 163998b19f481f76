"""The organisation tree as records (D1–D4) and its pages."""
