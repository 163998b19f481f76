"""Review report drafts, meetings and comments, approval and issue, and the higher level's decisions (D23–D25b)."""
