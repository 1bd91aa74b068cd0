"""Schema, migrations and the database handle."""
