"""Party documents: resolutions, directives, conclusions, their numbers and lineage (D5–D7)."""
