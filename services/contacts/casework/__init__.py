"""Casework: contacts coded as cases, worked through a fixed workflow, with an audit timeline and SLA due
times; and calls filed as uncoded contacts.

Start reading at domain/case.py (the Case and its rules), then service.py (the use cases over an abstract
unit of work), then entrypoints/grpc.py (the API). store.py writes, views.py reads, notifier.py builds
every event, shape.py reads the case's declared field rules from casework.proto. See docs/casework.md.
"""
