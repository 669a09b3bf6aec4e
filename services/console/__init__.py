"""The console: the gateway for people. Start at __main__.py, then app.py."""
