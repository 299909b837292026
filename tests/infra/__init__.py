"""Tests of the CDK app in infra/ (synthesised with .venv-infra, checked from the main venv)."""
