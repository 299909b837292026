# Roster: `make run` starts the embedded local stack, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test bench openapi clean

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade 'pip<26.3'  # chalice 1.34 requires pip<26.3
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

# The embedded local stack (docs/local-stack.md): API :8000, dev console :8001, AWS (moto) :8002,
# DynamoDB (moto in its own process) :8003.
run: setup
	$(BIN)/python -m infra.local_stack

test: setup infra-setup
	$(BIN)/python -m pytest -n 2 tests

# The OpenAPI 3.1 document, generated from the routes' contracts (docs/api.md); a test fails when
# the committed docs/openapi.json differs from it.
openapi: setup
	$(BIN)/python -m chalicelib.handlers.openapi_document docs/openapi.json

# Benchmarks (docs/performance.md): cold start vs the floor, AWS calls per route, package size,
# the mail pipeline, a notice on the local stack (a sanity figure).
bench: setup
	$(BIN)/python bench/aws_calls.py
	$(BIN)/python bench/pipeline.py
	$(BIN)/python bench/cold_start.py
	$(BIN)/python bench/cold_start.py --busy 2
	$(BIN)/python bench/package_size.py
	$(BIN)/python bench/notices.py

# CDK + cfn-lint in their own environment (jsii pins typeguard; cfn-lint brings
# aws-sam-translator, which must stay out of the app's). See docs/deploy.md.
INFRA_VENV := .venv-infra
INFRA_STAMP := $(INFRA_VENV)/.installed
SYNTH_REGION ?= eu-central-1
.PHONY: infra-setup synth

infra-setup: $(INFRA_STAMP)

$(INFRA_STAMP): pyproject.toml requirements.txt
	test -x $(INFRA_VENV)/bin/python || $(PYTHON) -m venv $(INFRA_VENV)
	$(INFRA_VENV)/bin/python -m pip install -q --upgrade 'pip<26.3'  # chalice 1.34 requires pip<26.3
	$(INFRA_VENV)/bin/python -m pip install -q -e '.[infra]'
	touch $(INFRA_STAMP)

# Offline: a region, no credentials or AWS config; writes infra/cdk.out/.
synth: infra-setup
	rm -rf infra/cdk.out
	env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE \
	  AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
	  CDK_DEFAULT_REGION=$(SYNTH_REGION) $(INFRA_VENV)/bin/python infra/app.py

clean:
	rm -rf $(VENV) .venv-infra .pytest_cache infra/cdk.out
