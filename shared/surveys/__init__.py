"""Questionnaires sent down, respondents and responses sent up and aggregated (D22)."""
