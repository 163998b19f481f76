"""The fast schema check reads the head revision from the files; it must agree with Alembic's own graph."""

from alembic.script import ScriptDirectory

from shared.db.migrate import alembic_config, head_revision


def test_the_head_read_from_the_files_is_alembics_head() -> None:
    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()
