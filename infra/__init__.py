"""Infrastructure: the CDK app (app.py, stack.py; needs .venv-infra) and the local stack."""
