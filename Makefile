# The two commands a newcomer needs: `make demo` and `make test`.
# Each creates the virtual environment in .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench clean settings-doc lock

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/member-plugins demo

test: $(STAMP)
	@# Debian's headless Chromium for the browser tests; without it they are skipped.
	-scripts/install-browser.sh
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

settings-doc: $(STAMP)
	$(BIN)/python scripts/update_settings_doc.py

# requirements.txt (what a Functions deployment installs) is the lock of pyproject.toml's
# runtime dependencies: exact versions with hashes, for the Functions host's Python on Linux.
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --quiet --generate-hashes \
		--python-version 3.11 --python-platform x86_64-manylinux_2_28 \
		--custom-compile-command "make lock" --output-file requirements.txt

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
