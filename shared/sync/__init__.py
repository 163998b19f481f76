"""The sync engine: registry of record types, feed, apply, wire protocol, parent endpoints and the node client.

It knows nothing of essays or surveys beyond what a `RecordType` declares.
"""
