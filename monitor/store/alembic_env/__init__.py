"""Alembic's script location: the revision template for ``alembic revision`` and an ``env.py`` for
the ``alembic`` command line. The daemon does not read this folder's env.py: it runs Alembic from
``monitor.store.migrations.migrate`` with a Config built in code."""
