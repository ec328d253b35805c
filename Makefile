# s2s — every target installs what it needs first (make setup), so a fresh Debian machine with
# Swift runs `make test` and `make demo` with nothing else done by hand.
SHELL := /bin/bash
SWIFT ?= swift
CONFIG ?= release
BIN := .build/$(CONFIG)/s2s
CORPUS ?= $(shell scripts/corpus-path.sh)
WORK ?= work

.PHONY: setup build manual-tool test test-sanitize demo bench reliability fuzz install clean

# Native libraries from Debian, installed only when missing.
setup:
	@scripts/setup.sh

# The binary users run is the one the tests run: both are built with the same flags
# (testability changes no arithmetic, and a second flag set would rebuild everything twice).
SWIFT_FLAGS := -c $(CONFIG) -Xswiftc -enable-testing

build: setup
	$(SWIFT) build $(SWIFT_FLAGS) --product s2s

# Optimized build with testability (@testable imports): the numeric tests (gradient checks,
# short training runs) are 10–50× faster than in a debug build, which keeps CI short. The tests
# that need real text read Multi30k from $(CORPUS) (fetched into data/cache when ../shared is
# absent, see scripts/corpus-path.sh).
test: setup manual-tool
	@test -n "$(CORPUS)" || { echo "make test: Multi30k is neither in \$$S2S_CORPUS nor in ../shared/corpora/multi30k-en-fr, and fetching it failed (scripts/fetch-multi30k.sh)" >&2; exit 1; }
	S2S_CORPUS="$(CORPUS)" $(SWIFT) test $(SWIFT_FLAGS) --disable-swift-testing

# The same suite under AddressSanitizer and UndefinedBehaviorSanitizer (the s2s binary the CLI
# tests run is instrumented too), in its own build folder so the shipping build stays as it is.
# Swift on Linux has no UBSan for Swift code — its own checks (overflow, bounds) are on in every
# release build — so UBSan covers the C code (the int8 kernels, the C parts of dependencies), in
# trap mode: undefined behaviour stops the process. Leak reports are off: the Swift runtime's
# metadata caches live until exit by design.
SANITIZE_FLAGS := $(SWIFT_FLAGS) --scratch-path .build-sanitize --sanitize=address \
	-Xcc -fsanitize=undefined -Xcc -fsanitize-trap=undefined
test-sanitize: setup
	@test -n "$(CORPUS)" || { echo "make test-sanitize: Multi30k not found (see make test)" >&2; exit 1; }
	$(SWIFT) build $(SANITIZE_FLAGS) --product generate-manual
	ASAN_OPTIONS=detect_leaks=0 S2S_CORPUS="$(CORPUS)" $(SWIFT) test $(SANITIZE_FLAGS) --disable-swift-testing

# swift-argument-parser's man-page generator, built beside s2s: `make install` writes the man
# page with it, and the tests check that page.
manual-tool: setup
	$(SWIFT) build $(SWIFT_FLAGS) --product generate-manual

demo: build
	@scripts/demo.sh "$(BIN)" "$(CORPUS)" "$(WORK)"

bench: build
	@scripts/bench.sh "$(BIN)" "$(CORPUS)" "$(WORK)/bench"

# The bad-input catalogue: every subcommand × every bad input that applies (missing, empty,
# binary, invalid UTF-8, corrupt gzip, foreign or damaged models, output = input, a read-only
# folder, a full disk, signals), each judged clean or not; a Markdown table on stdout.
reliability: build
	@scripts/reliability.sh "$(BIN)" "$(WORK)/reliability"

# Fuzz every reader of outside input (model container, vocabulary, prepared corpus, line reader,
# translate's and eval's inputs, the server's requests) with libFuzzer + ASan, FUZZ_SECONDS each.
FUZZ_SECONDS ?= 60
fuzz: setup
	@scripts/fuzz/fuzz.sh $(FUZZ_SECONDS)

# The binary, its man page (from the argument parser's own description of every option) and
# shell completions for bash, zsh and fish, under PREFIX.
PREFIX ?= /usr/local
install: build manual-tool
	install -d "$(PREFIX)/bin" "$(PREFIX)/share/man/man1" "$(PREFIX)/share/bash-completion/completions" \
		"$(PREFIX)/share/zsh/site-functions" "$(PREFIX)/share/fish/vendor_completions.d"
	install -m 755 "$(BIN)" "$(PREFIX)/bin/s2s"
	.build/$(CONFIG)/generate-manual "$(BIN)" --output-directory "$(PREFIX)/share/man/man1"
	"$(BIN)" --generate-completion-script bash > "$(PREFIX)/share/bash-completion/completions/s2s"
	"$(BIN)" --generate-completion-script zsh > "$(PREFIX)/share/zsh/site-functions/_s2s"
	"$(BIN)" --generate-completion-script fish > "$(PREFIX)/share/fish/vendor_completions.d/s2s.fish"
	@echo "installed s2s in $(PREFIX)/bin, its man page in $(PREFIX)/share/man/man1"

clean:
	rm -rf .build .build-sanitize $(WORK)
