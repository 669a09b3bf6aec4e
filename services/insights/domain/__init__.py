"""The insights domain: plain Python, no SQL and no protobuf, so every rule is tested through fakes."""
