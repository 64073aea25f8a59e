"""On PostgreSQL the database itself refuses UPDATE and DELETE on ledger rows (the models refuse them everywhere)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION rewards_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = 'rewards_ledgerentry is append-only: post a reversal instead of ' || TG_OP;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS rewards_ledger_append_only ON rewards_ledgerentry;
CREATE TRIGGER rewards_ledger_append_only BEFORE UPDATE OR DELETE ON rewards_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION rewards_ledger_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS rewards_ledger_append_only ON rewards_ledgerentry;
DROP FUNCTION IF EXISTS rewards_ledger_append_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("rewards", "0001_royalty_ledger")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
