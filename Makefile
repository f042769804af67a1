# The two commands of the README, `make demo` and `make test`, set everything up themselves:
# Debian packages (when missing), the virtualenv, the Python package, and the engine's Maven jars.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
APT_PACKAGES := redis-server chromium maven

.PHONY: help setup system-packages engine elasticsearch demo test bench lint stop clean

help:
	@echo "make demo    crawl the bundled offline EV-news web, cluster, index, print clusters and a search"
	@echo "make test    the whole test suite (starts and stops its own engine and redis)"
	@echo "make bench   benchmarks -> benchmarks/results.md"
	@echo "make stop    stop the local search engine"

setup: system-packages $(STAMP) engine

# apt-get only runs when something is missing, so a warm `make test` does not touch the network
system-packages:
	@missing=""; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v mvn >/dev/null 2>&1 || missing="$$missing maven"; \
	command -v java >/dev/null 2>&1 || missing="$$missing openjdk-17-jre-headless"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "missing Debian packages:$$missing (run: sudo apt-get install$$missing)"; \
	  fi; \
	fi

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test]"
	@touch $(STAMP)

# resolves OpenSearch 2.19 and its modules from Maven Central once (var/engine/build)
engine: $(STAMP)
	@$(BIN)/python -c "from aggregator.engine import LocalEngine; e = LocalEngine(); \
	  e.is_built() or print('building the local engine with Maven (first run only)...'); e.build()"

# Elastic's minimal Elasticsearch 8.19 build from Maven Central once (~107 MB, var/elasticsearch): the
# suite runs the search tests on it too (tests/conftest.py starts and stops it)
elasticsearch: $(STAMP)
	@$(BIN)/python -c "from aggregator.engine.elasticsearch import ElasticsearchNode as N; \
	  n = N(home='var/test-elasticsearch', http_port=0, transport_port=0, dist_root='var/elasticsearch'); \
	  n.is_installed() or print('fetching Elasticsearch for the tests with Maven (first run only)...'); n.install()"

demo: setup
	$(BIN)/aggregator demo

test: setup elasticsearch
	$(BIN)/ruff check .
	$(BIN)/pytest -q

bench: setup
	$(BIN)/python -m benchmarks.run

lint: $(STAMP)
	$(BIN)/ruff check .

stop:
	-$(BIN)/aggregator engine stop

clean: stop
	rm -rf var test-artifacts
