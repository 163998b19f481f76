"""Record types: one module per concept, each a wire struct, a table and a `RecordType` for the registry."""
