"""What the provincial hub and the district and base nodes share: rules, records, tables, the sync engine."""
