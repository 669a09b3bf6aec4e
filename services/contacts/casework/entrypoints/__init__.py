"""Casework's entrances, each thin: gRPC (grpc.py) and the bus (bus.py). The public web form is channels'."""
