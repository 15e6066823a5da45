"""`domain.ports.ImportWrites` on PostgreSQL: the SQLite store's records writer, run
through the `?`-placeholder view of the import's transaction; only the new import
record's id is read differently (`RETURNING`, where SQLite has `lastrowid`)."""

from __future__ import annotations

from domain.ports import ImportRecord
from store.sqlite.import_records import INSERT_IMPORT, SqliteImportWrites


class PostgresImportWrites(SqliteImportWrites):
    """The records an import writes after its events, in its transaction."""

    def add_import(self, record: ImportRecord) -> ImportRecord:
        """Append an import record with the next id (max+1, by trigger); returns it."""
        values = record.to_json_dict()
        del values["id"]
        row = self._conn.execute(INSERT_IMPORT + " RETURNING id", tuple(values.values())).fetchone()
        return ImportRecord(int(row[0]), *tuple(values.values()))
