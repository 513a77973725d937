# stemgui: `make run` launches the app, `make test` runs the suite; both create .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.stemgui-installed
export QT_QPA_PLATFORM ?= offscreen

# Debian packages the app and the tests need: PortAudio for sounddevice, the JACK server whose
# dummy driver the real-output tests play on in real time (ALSA's null PCM, their other device,
# comes with libportaudio2's libasound2), Qt's X/EGL/xkb libraries, fonts, Xvfb for screenshots
# of the real window; FluidSynth and a GM soundfont for the synthetic training songs;
# python3-venv for .venv, and a C/C++ compiler, Python's headers and cmake to build the train
# extra's diffq and Sinsy singing voice (pysinsy), which come as source.
DEBIAN_PACKAGES := libportaudio2 jackd2 libegl1 libgl1 libglib2.0-0 libfontconfig1 libdbus-1-3 \
	libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 \
	libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libx11-xcb1 \
	fonts-dejavu-core xvfb libfluidsynth3 fluid-soundfont-gm \
	python3-venv python3-dev build-essential cmake

.PHONY: run test test-slow lint format system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev,train]'
	$(BIN)/pip install --quiet --no-deps demucs==4.1.0
	touch $@

run: $(STAMP)
	QT_QPA_PLATFORM= $(BIN)/python -m stemgui

test: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" -q

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow -q

lint: $(STAMP)
	$(BIN)/ruff check stemgui tests bench training
	$(BIN)/ruff format --check stemgui tests bench training

format: $(STAMP)
	$(BIN)/ruff format stemgui tests bench training
	$(BIN)/ruff check --fix stemgui tests bench training

system-deps:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEBIAN_PACKAGES); \
	else \
		echo "Install these system packages (Debian/Ubuntu names): $(DEBIAN_PACKAGES)"; \
	fi

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache

# Installers (issue 5): `make bundle` builds the one-folder app into dist/stemgui with PyInstaller
# (the `bundle` extra; torch stays the one already in .venv); `make bundle-test` runs the frozen
# app's smoke test headless (separates the bundled demo with the bundled model, checks the stems).
BUNDLE_STAMP := $(VENV)/.stemgui-bundle-installed
BUNDLE_DIR := dist/stemgui
BUNDLE_EXE := $(BUNDLE_DIR)/stemgui

.PHONY: bundle bundle-test

$(BUNDLE_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[bundle]'
	touch $@

bundle: $(BUNDLE_STAMP)
	$(BIN)/pyinstaller --noconfirm --clean --log-level WARN \
		--distpath dist --workpath build/pyinstaller build_spec/stemgui.spec

bundle-test:
	@test -x $(BUNDLE_EXE) || { echo "no $(BUNDLE_EXE): run make bundle first"; exit 2; }
	QT_QPA_PLATFORM=offscreen $(BUNDLE_EXE) --smoke-test
