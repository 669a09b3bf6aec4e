"""One contacts for the whole channels directory. The fixture is session-scoped, and a module that imports
it gets an instance of its own that lives to the end of the run: ten modules held ten contacts services'
connection pools open at once, past PostgreSQL's 100 connections."""

from tests.integration.contacts.conftest import agent, contacts  # noqa: F401  (the fixtures)
