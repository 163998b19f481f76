"""Study sessions (D8, D3) and propaganda (D9)."""
