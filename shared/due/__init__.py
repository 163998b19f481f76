"""What is due, what is late and who is responsible, for each level (D27)."""
