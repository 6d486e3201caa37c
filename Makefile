# Every routine task. `make run` and `make test` work from a clean clone:
# they create the virtualenv, install Balagh and set up the sandbox PBX.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: help deps venv deb run test test-unit e2e lint pbx pbx-stop pbx-status sounds bench bench-stats faults clean

# Debian packages the sandbox and the prompts need: debootstrap builds the PBX,
# espeak-ng and sox make placeholder prompts (and their tests); chromium and
# chromium-driver run the console's browser tests (tests/e2e/test_console*.py).
# kamailio dispatches calls to the sandbox's Asterisk nodes (`balagh pbx nodes`,
# tests/e2e/test_faults_nodes.py; docs/scale.md); flock holds the PBX lock while they run;
# sip-tester (SIPp) places the callers through it (config/sipp/, bench/nodes_rate.py).
DEB_TOOLS := debootstrap espeak-ng sox chromium chromium-driver kamailio sip-tester
# `make deb` and its test (tests/packaging/test_deb.py, part of `make test`): dh-virtualenv
# builds the package; debootstrap (above) makes the clean chroot it is installed in.
DEB_BUILD_TOOLS := dh-virtualenv debhelper dpkg-dev python3-venv python3-dev
# The report store's PostgreSQL engine (issue 26): its tests start a throwaway cluster of
# Debian's postgresql-15 on loopback (tests/unit/pg_cluster.py); a one-box site needs none.
DEB_SERVERS := postgresql-15 prometheus kannel kannel-extras

help:
	@echo "make run       start the sandbox PBX and the Balagh app (prints how to place a call)"
	@echo "make deb       the Debian package, dist/balagh_<version>_<arch>.deb (dh-virtualenv)"
	@echo "make test      lint, unit and end-to-end tests against the sandbox PBX"
	@echo "make pbx       install (once) and start the sandbox Asterisk"
	@echo "make sounds    generate missing placeholder prompts with espeak-ng"
	@echo "make bench     benchmarks against the sandbox PBX (results in bench/RESULTS.md)"
	@echo "make bench-stats  balagh stats and report-pack over 1,000,000 generated reports (no PBX)"
	@echo "make faults    the fault suite on the sandbox PBX (docs/reliability.md), then the store's"

deps:
	@missing=""; for tool in $(DEB_TOOLS) $(DEB_BUILD_TOOLS) $(DEB_SERVERS); do command -v $$tool >/dev/null || dpkg -s $$tool >/dev/null 2>&1 || missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

$(STAMP): pyproject.toml setup.cfg
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

venv: $(STAMP)

pbx: deps venv
	$(BIN)/balagh pbx install
	$(BIN)/balagh pbx start

pbx-stop: venv
	$(BIN)/balagh pbx stop

pbx-status: venv
	$(BIN)/balagh pbx status

run: pbx
	$(BIN)/balagh run

lint: venv
	$(BIN)/ruff check agi tests $(wildcard bench)
	$(BIN)/mypy

test-unit: venv
	$(BIN)/pytest tests/unit

# The e2e suite starts the sandbox PBX itself if it is not running (and stops it after).
test: deps venv lint
	$(BIN)/balagh pbx install
	$(BIN)/pytest tests --durations=25

e2e: venv
	$(BIN)/balagh pbx install
	$(BIN)/pytest tests/e2e

# Built from a copy of the tracked files (dpkg-buildpackage writes beside its source tree),
# so the checkout stays clean; the package lands in dist/. Needs the network for the wheels.
DEB_WORK := build/deb
deb: deps
	rm -rf $(DEB_WORK) && mkdir -p $(DEB_WORK)/src dist
	git ls-files -z | xargs -0 cp -a --parents -t $(DEB_WORK)/src
	cd $(DEB_WORK)/src && dpkg-buildpackage -b -us -uc
	mv $(DEB_WORK)/balagh_*.deb dist/
	@ls dist/balagh_*.deb

sounds: deps venv
	$(BIN)/balagh sounds generate
	$(BIN)/balagh sounds check

# Installs the bench extra (profilers); holds the machine's PBX lock while it uses the
# sandbox (starts it if needed, stops it if it started it). About 15 minutes.
bench: deps venv
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test,bench]'
	$(BIN)/balagh pbx install
	$(BIN)/python bench/run.py

# No PBX: generates 1,000,000 reports once (kept in /tmp), then times the commands.
bench-stats: venv
	$(BIN)/python bench/bench_stats.py

# The fault suite on the sandbox PBX (its table becomes docs/reliability.md), the spool's
# fault tests (as root: chattr, tmpfs), then maintenance on 1 M generated reports beside
# a live writer (results appended to bench/RESULTS.md).
FAULT_ROWS := $(or $(TMPDIR),/tmp)/balagh-fault-rows.jsonl
faults: deps venv
	$(BIN)/balagh pbx install
	rm -f $(FAULT_ROWS)
	BALAGH_FAULTS_REPORT=$(FAULT_ROWS) $(BIN)/pytest -q $(sort $(wildcard tests/e2e/test_faults*.py)) tests/e2e/test_spool.py tests/e2e/test_watchdog.py
	BALAGH_FAULTS_REPORT=$(FAULT_ROWS) $(BIN)/pytest -q tests/unit/test_store_spool.py tests/unit/test_maintenance.py
	PATH=$(BIN):$$PATH $(BIN)/python bench/reliability.py $(FAULT_ROWS)
	$(BIN)/python bench/faults.py --reports $(or $(REPORTS),1000000)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build dist agi/*.egg-info
