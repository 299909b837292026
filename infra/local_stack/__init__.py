"""The embedded local stack: moto (AWS), the Chalice API, a queue runner, a scheduler and a
dev console, all in one process on 127.0.0.1. Run it with `python -m infra.local_stack`.

Nothing here is imported by the deployed app; docs/local-stack.md explains what runs where.
"""
