"""The consumer directory: consumers, their numbers, emails and addresses, and who is calling.

Start reading at grpc_api.py (the Contacts service), then directory.py and matching.py; model.py holds the
plain values, store.py the SQL. lookup.py is all that casework may ask of the directory.
"""
