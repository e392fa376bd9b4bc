# `make run` and `make test` install what is missing on a Debian machine, build, and go.

SWIFT ?= swift
VENV := .venv
PYTHON := $(VENV)/bin/python
# The PostgreSQL tests start a private server of their own (Tests/Support/PostgresServer.swift).
# They never use the `main` cluster that installing postgresql-15 may create and start on port 5432.
DEBIAN_PACKAGES := libsqlite3-dev libssl-dev libmicrohttpd-dev pkg-config openssl postfix libpq-dev postgresql-15 chromium chromium-driver wrk
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test build debian-packages python-tools clean

run: build
	.build/release/trigger-email serve

build: debian-packages
	$(SWIFT) build -c release

# The make-run check goes first so that the test runner's summary is the last line printed.
# The differential template test runs alone afterwards: its handlebars.js reference keeps
# every core busy for a minute or more, which would slow the timed steps of other tests.
test: debian-packages python-tools
	Tests/make-run-check.sh
	$(SWIFT) build --build-tests -Xswiftc -warnings-as-errors
	TRIGGER_EMAIL_PYTHON="$(abspath $(PYTHON))" $(SWIFT) test --skip-build --skip HandlebarsDifferential
	TRIGGER_EMAIL_PYTHON="$(abspath $(PYTHON))" $(SWIFT) test --skip-build --filter HandlebarsDifferential

# Installs the Debian packages the build and the tests need, only those missing.
# The tests start private Postfix instances, so the system's Postfix is installed with the
# debconf answer "No configuration": no /etc/postfix/main.cf, and the postfix service does not
# start. Without that answer, a noninteractive install takes the default "Internet Site", which
# writes main.cf and, on a machine that starts services on install, runs Postfix on port 25 of
# every interface.
debian-packages:
	@command -v $(SWIFT) >/dev/null || { echo "swift is not on PATH: install the Swift 6 toolchain from swift.org first." >&2; exit 1; }
	@missing=""; \
	for package in $(DEBIAN_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q "ok installed" || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		case " $$missing " in *" postfix "*) \
			echo "postfix postfix/main_mailer_type select No configuration" | $(SUDO) debconf-set-selections;; \
		esac; \
		$(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $$missing; \
	fi

# The Python test tools (aiosmtpd and trustme), in a virtual environment inside the repository.
python-tools: $(VENV)/installed

$(VENV)/installed: Tests/Support/python/requirements.txt
	@python3 -c "import venv, ensurepip" 2>/dev/null || { \
		$(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q python3-venv; }
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r Tests/Support/python/requirements.txt
	touch $@

clean:
	rm -rf .build $(VENV)

# Measures trigger-email on SQLite and on a private PostgreSQL server against Postfix's
# smtp-source and django-post-office on loopback, checks with wrk whether HTTP requests to
# serve slow its delivery, and writes the figures to BENCH_JSON as well (see bench/run-bench).
# BENCH_N, BENCH_BACKLOG, BENCH_HTTP (0 skips the HTTP load), BENCH_HTTP_RATE and
# BENCH_POSTGRES (0 skips PostgreSQL) pass through the environment. The peer installs
# django-post-office from PyPI.
BENCH_JSON ?= bench-results.json

.PHONY: bench

bench: build
	@python3 -c "import venv, ensurepip, sqlite3" 2>/dev/null || { \
		$(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q python3 python3-venv; }
	bench/run-bench --json "$(BENCH_JSON)"
