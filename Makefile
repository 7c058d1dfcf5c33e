# `make run` and `make test` set everything up themselves on first use (and only then):
# cairo's headers for pycairo, the libraries Qt's X11 platform loads, the virtual environment in
# .venv, and alstudio with its dev tools. `make run` checks the Qt platform libraries every time.
# System packages come from apt-get on Linux and Homebrew on macOS; elsewhere make says what to install.
SHELL := /bin/bash
PYTHON ?= python3
# Overridable so that tests/test_platform_setup.py can run the set-up as if on macOS or another system.
UNAME_S ?= $(shell uname -s)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.alstudio-installed

# The system libraries that PySide6's X11 platform plugin (plugins/platforms/libqxcb.so) and the Qt
# libraries it loads link, as library:package (from readelf -d and dpkg -S on Debian 12). PySide6
# bundles Qt itself but not these. alstudio/gui/platform_check.py has the same table (a test says so).
QT_XCB_LIBRARIES := libxcb.so.1:libxcb1 libxcb-cursor.so.0:libxcb-cursor0 libxcb-icccm.so.4:libxcb-icccm4 \
	libxcb-image.so.0:libxcb-image0 libxcb-keysyms.so.1:libxcb-keysyms1 libxcb-randr.so.0:libxcb-randr0 \
	libxcb-render.so.0:libxcb-render0 libxcb-render-util.so.0:libxcb-render-util0 \
	libxcb-shape.so.0:libxcb-shape0 libxcb-shm.so.0:libxcb-shm0 libxcb-sync.so.1:libxcb-sync1 \
	libxcb-util.so.1:libxcb-util1 libxcb-xfixes.so.0:libxcb-xfixes0 libxcb-xkb.so.1:libxcb-xkb1 \
	libxcb-glx.so.0:libxcb-glx0 libX11.so.6:libx11-6 libX11-xcb.so.1:libx11-xcb1 \
	libxkbcommon.so.0:libxkbcommon0 libxkbcommon-x11.so.0:libxkbcommon-x11-0 libEGL.so.1:libegl1 \
	libGL.so.1:libgl1 libfontconfig.so.1:libfontconfig1 libfreetype.so.6:libfreetype6 \
	libdbus-1.so.3:libdbus-1-3 libglib-2.0.so.0:libglib2.0-0 libgthread-2.0.so.0:libglib2.0-0 \
	libstdc++.so.6:libstdc++6 libgcc_s.so.1:libgcc-s1 libz.so.1:zlib1g libzstd.so.1:libzstd1

# Shell: $$missing_libs and $$missing become the libraries of QT_XCB_LIBRARIES that the dynamic
# linker's cache (ldconfig -p) lacks, and their packages. Linux only; nothing when ldconfig cannot say.
FIND_MISSING_QT_LIBRARIES = missing_libs=""; missing=""; missing_cairo=""; \
	if [ "$(UNAME_S)" = Linux ] && known=$$($(firstword $(wildcard /sbin/ldconfig /usr/sbin/ldconfig) ldconfig) -p 2>/dev/null); then \
		for pair in $(QT_XCB_LIBRARIES); do \
			printf '%s\n' "$$known" | grep -q "^[[:space:]]$${pair%%:*} " && continue; \
			missing_libs="$$missing_libs $${pair%%:*}"; \
			case " $$missing " in *" $${pair\#*:} "*) ;; *) missing="$$missing $${pair\#*:}";; esac; \
		done; \
	fi

# Shell: installs $$missing with apt-get as root, else prints the command (or, without apt-get,
# what is needed) and fails.
INSTALL_MISSING = if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing$$missing with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	elif command -v apt-get >/dev/null; then \
		echo "alstudio needs system packages that are not installed. Run:"; \
		echo "    sudo apt-get install -y$$missing"; \
		echo "then run make again."; \
		exit 1; \
	else \
		if [ -n "$$missing_libs" ]; then echo "alstudio's window (Qt's X11 platform) needs:$$missing_libs"; fi; \
		if [ -n "$$missing_cairo" ]; then echo "alstudio needs cairo's headers (pkg-config cairo) to build pycairo"; fi; \
		echo "Install your system's packages that provide them (on Debian:$$missing), then run make again."; \
		exit 1; \
	fi

# Shell, macOS: cairo and pkg-config from Homebrew, or the command that installs them. Qt's macOS
# platform plugin needs nothing outside PySide6, so there is no counterpart of QT_XCB_LIBRARIES.
HOMEBREW_PACKAGES = if pkg-config --exists cairo 2>/dev/null; then exit 0; fi; \
	if command -v brew >/dev/null; then \
		echo "installing cairo pkg-config with Homebrew"; \
		brew install cairo pkg-config; exit $$?; \
	fi; \
	echo "alstudio needs cairo and pkg-config from Homebrew (https://brew.sh) to build pycairo. Install Homebrew, then run:"; \
	echo "    brew install cairo pkg-config"; \
	echo "then run make again."; \
	exit 1

# Shell, any other system: make cannot know its package manager, so it names what pycairo's build needs.
OTHER_SYSTEM_PACKAGES = if pkg-config --exists cairo 2>/dev/null; then exit 0; fi; \
	echo "alstudio's set-up installs system packages on Linux (apt-get) and macOS (Homebrew), not on $(UNAME_S):" \
		"install cairo's development files and pkg-config with your system's package manager (so that" \
		"\`pkg-config --exists cairo\` succeeds), then run make again."; \
	echo "On Windows make is not needed: pip install . (pycairo has Windows wheels), then run alstudio (see README.md)."; \
	exit 1

.PHONY: run test lint bench system-packages qt-platform-libraries clean

run: $(STAMP) qt-platform-libraries
	$(BIN)/alstudio gui

test: $(STAMP) lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check alstudio tests benchmarks
	$(BIN)/lint-imports

# The figures in docs/benchmarks.md (several minutes on a 2-core CPU).
bench: $(STAMP)
	$(BIN)/python benchmarks/generation.py
	$(BIN)/python benchmarks/engine.py --lecture
	QT_QPA_PLATFORM=offscreen $(BIN)/python benchmarks/gui_responsiveness.py --cycles 4
	$(BIN)/python benchmarks/llm_annotator.py

$(STAMP): pyproject.toml
	@$(MAKE) --no-print-directory system-packages
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# pycairo (which synbols draws with) compiles against cairo's headers found through pkg-config; the
# window needs the Qt platform libraries. One apt-get (or one printed command) for both on Linux.
system-packages:
	@case "$(UNAME_S)" in Linux) ;; Darwin) $(HOMEBREW_PACKAGES);; *) $(OTHER_SYSTEM_PACKAGES);; esac; \
	$(FIND_MISSING_QT_LIBRARIES); \
	pkg-config --exists cairo 2>/dev/null || { missing_cairo=1; missing=" libcairo2-dev pkg-config$$missing"; }; \
	$(INSTALL_MISSING)

# Cheap when everything is there (one ldconfig -p), so `make run` checks every time.
qt-platform-libraries:
	@$(FIND_MISSING_QT_LIBRARIES); $(INSTALL_MISSING)

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache
