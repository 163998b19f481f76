"""The pure domain core: rules of the domain as plain functions on plain values, with no I/O and no clock reads."""
