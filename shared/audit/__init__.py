"""The audit trail (D27): who wrote what, when and from where, synced up with the records it describes."""
