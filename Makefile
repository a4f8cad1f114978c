# The two commands a newcomer runs: `make demo` and `make test`. Both set everything up themselves,
# idempotently: system packages (apt, only if missing), the virtualenv, pip packages, the Kafka jars (Maven).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SYSTEM_PACKAGES ?= postgresql mariadb-server chromium unixodbc
PYTEST_ARGS ?=
DEMO_RATE ?= 20

.PHONY: setup system demo test test-unit lint typecheck docs bench kafka-up kafka-down clean

setup: $(STAMP) .crmhub/.jars .crmhub/asyncapi-specs/.version

system:
	bash scripts/setup-system.sh $(SYSTEM_PACKAGES)

$(STAMP): pyproject.toml
	bash scripts/setup-system.sh $(SYSTEM_PACKAGES)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

.crmhub/.jars: $(STAMP) hub/kafka/pom.xml
	$(BIN)/crmhub kafka jars
	mkdir -p .crmhub && touch $@

# the official AsyncAPI JSON Schemas (npm @asyncapi/specs) the AsyncAPI document is validated against in the tests
.crmhub/asyncapi-specs/.version: scripts/asyncapi-specs.sh
	bash scripts/asyncapi-specs.sh .crmhub/asyncapi-specs
	touch $@

demo: setup
	$(BIN)/crmhub demo -c config/demo.yaml --generate $(DEMO_RATE)

test: setup
	$(BIN)/pytest $(PYTEST_ARGS)

test-unit: setup
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

typecheck: lint

# the manual (docs/, mkdocs.yml) into site/; strict: a broken link or anchor between pages fails the build
docs: setup
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict -d site

bench: setup
	$(BIN)/python bench/bench_ebcdic.py

kafka-up: setup
	$(BIN)/crmhub kafka up -c config/demo.yaml

kafka-down: setup
	$(BIN)/crmhub kafka down -c config/demo.yaml

clean:
	-$(BIN)/crmhub kafka down -c config/demo.yaml
	-bash scripts/services.sh stop
	rm -rf .crmhub test-artifacts .pytest_cache .mypy_cache .ruff_cache
