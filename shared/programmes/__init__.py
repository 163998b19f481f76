"""Action programmes with measurable targets and yearly progress (D14, D15, D18)."""
