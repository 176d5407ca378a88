# Two commands do everything on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# Everything the demo and tests need is local: no hub lookups (they retry for ~46 s offline), no telemetry.
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export MLFLOW_DISABLE_TELEMETRY ?= true
export TOKENIZERS_PARALLELISM ?= false

.PHONY: install browser java postgres labelstudio demo test ui clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	# pip prints ~110 harmless "Location ... is ignored" lines on these machines: hide them.
	$(PY) -m pip install -q -e ".[test]" 2>&1 | { grep -v "is ignored" || true; }
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/stance demo configs/baseline.yaml configs/transformer.yaml configs/ensemble.yaml

# The MLflow UI test drives Debian's chromium; install it when missing (root only: CI runs as root).
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  echo "note: chromium is not installed and this is not root: the MLflow UI browser test will be skipped"

# The Spark test needs a Java runtime (Spark 4 wants 17+); install Debian's when missing (root only).
java:
	@command -v java >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; } || \
	  echo "note: java is not installed and this is not root: the Spark test will be skipped"

# The team-tracking test starts its own throwaway PostgreSQL cluster from these binaries.
postgres:
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; } || \
	  echo "note: PostgreSQL is not installed and this is not root: the PostgreSQL tracking test will be skipped"

# The Label Studio round-trip test runs the server from its own virtualenv: label-studio pins numpy, lxml, Django and
# more, so it never goes into $(VENV); with the sentry-sdk 3 that pip picks it dies at start. ~1 GB, ~2.5 min.
LS_VENV ?= .venv-labelstudio
LS_STAMP := $(LS_VENV)/.installed-stamp

$(LS_STAMP):
	test -x $(LS_VENV)/bin/python || python3 -m venv $(LS_VENV)
	$(LS_VENV)/bin/pip install -q "label-studio==1.23.2" "sentry-sdk<3" 2>&1 | { grep -v "is ignored" || true; }
	touch $(LS_STAMP)

labelstudio:
	@$(MAKE) --no-print-directory $(LS_STAMP) || \
	  echo "note: Label Studio could not be installed in $(LS_VENV): the Label Studio test will be skipped"

test: $(STAMP) browser java postgres labelstudio
	$(VENV)/bin/pytest

ui: $(STAMP)
	$(VENV)/bin/stance ui --port 5000

clean:
	rm -rf outputs mlruns mlflow.db .pytest_cache
