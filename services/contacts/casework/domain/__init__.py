"""Casework's domain: the Case aggregate and its workflow, code tables, input rules, SLA due times.

Plain Python only: no SQL, psycopg, gRPC or protobuf. It is tested through fakes (tests/unit/contacts).
"""
