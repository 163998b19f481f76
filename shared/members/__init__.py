"""Party members and roster counts, with who must write an essay (D12)."""
