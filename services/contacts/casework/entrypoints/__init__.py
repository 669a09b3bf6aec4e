"""Casework's entrances, each thin: gRPC (grpc.py), the bus (bus.py) and the public web form (web_form.py)."""
