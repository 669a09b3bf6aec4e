"""The fulfillment workflows as a nameko service: events and timers in, steps in PostgreSQL out.

Only this package and services/fulfillment/worker.py import nameko; the steps themselves are in
services/fulfillment/workflow_store.py and know nothing of it.
"""
