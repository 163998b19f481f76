"""Essay templates (D11) and graded essays with their rewrites (D10, D13)."""
