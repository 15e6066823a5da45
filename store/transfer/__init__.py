"""Moving a whole audit trail between databases: the JSON Lines export and import.

- store.transfer.records: the extra record kinds of an export (commands, refusals,
  bookmarks, imports) and the `imports` table's rows.
- store.transfer.export: the export stream (events as they are, plus those records).
- store.transfer.importer: the import, replayed through the domain's rules and recorded.
"""
