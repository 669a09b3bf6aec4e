"""The consumer's rights: export, erasure and retention (docs/privacy.md).

- `redact.py`: the personal details in free text, found and replaced; plain Python.
- `workflow.py`: the durable erasure, step by step, with its legal hold and receipt; plain Python.
- `retention.py`: retention policies and the sweep that applies them.
- `archive.py`: the export archive, assembled from every service's answer.
- `own_data.py` and `store.py`: what contacts itself holds, and the workflow's tables (SQL only there).
- `grpc_api.py`: contacts' Privacy and ConsumerRights servicers.
"""
