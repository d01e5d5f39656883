# SupportAI — the two set-up commands are `make run` and `make test` (see README).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# Development defaults; production sets its own environment (README "Environment variables").
export DEBUG ?= 1
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install system-deps run test lint bench migrate clean-data lock

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $(STAMP)

install: $(STAMP)

system-deps:
	bash scripts/install_system_deps.sh

migrate: install
	$(BIN)/python manage.py migrate --no-input

run: migrate
	$(BIN)/python manage.py seed_demo
	@echo
	@echo "SupportAI is starting on http://$(HOST):$(PORT)"
	@echo "  health:  http://$(HOST):$(PORT)/healthz"
	@echo "  console: http://$(HOST):$(PORT)/console/   (logins above)"
	@echo "  admin:   http://$(HOST):$(PORT)/admin/     (owner/admin logins)"
	@echo "  API:     http://$(HOST):$(PORT)/api/docs/"
	@echo
	$(BIN)/daphne -b $(HOST) -p $(PORT) supportai.asgi:application

test: install system-deps
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

bench: migrate
	mkdir -p bench-results
	$(BIN)/python manage.py run_benchmarks --out bench-results

# The same directory as settings.DATA_DIR (SUPPORTAI_DATA_DIR, empty or unset meaning .data). Never
# from under a running embedded server (its postmaster.pid names a live process): it would go on
# writing into deleted files, and the next start would find no cluster.
clean-data:
	@dir="$${SUPPORTAI_DATA_DIR:-.data}"; pid=$$(head -n 1 "$$dir/pgdata/postmaster.pid" 2>/dev/null); \
	if [ -n "$$pid" ] && ps -p "$$pid" > /dev/null 2>&1; then \
		echo "the embedded PostgreSQL (pid $$pid) is running on $$dir: stop what uses it (make run, Celery, tests; if nothing does, a process using it was killed: kill -INT $$pid), then run make clean-data again" >&2; \
		exit 1; \
	fi
	rm -rf "$${SUPPORTAI_DATA_DIR:-.data}"

# Re-resolve requirements*.txt in a scratch venv and pin everything it installed (torch without its
# local +cpu label, which pip's index does not carry).
LOCK_VENV := .lock-venv
lock:
	rm -rf $(LOCK_VENV) && $(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install --quiet --upgrade pip
	$(LOCK_VENV)/bin/pip install --quiet -r requirements-dev.txt
	{ grep '^#' constraints.txt; $(LOCK_VENV)/bin/pip freeze | sed -E 's/^(torch==[^+]*)\+.*/\1/'; } > constraints.txt.new
	mv constraints.txt.new constraints.txt
	rm -rf $(LOCK_VENV)
