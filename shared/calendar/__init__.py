"""The review calendar: preliminary and final reviews, overrides, plans, projects and held reviews (D16–D21)."""
