# clearinghouse - build, test, install.
#
#   make            build build/clearinghouse
#   make deps       install the Debian packages the project needs (when missing)
#   make test       build and run the Criterion suite
#   make asan       the suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make valgrind   the suite under valgrind memcheck
#   make fuzz       run the fuzz targets (tokenizer; validator + response readers; YAML fast scanner) for FUZZ_SECONDS each
#   make bench      throughput and memory of the hot paths
#   make demo       the main job on the embedded defaults
#   make install    PREFIX=/usr/local DESTDIR=

CC       ?= cc
PREFIX   ?= /usr/local
BUILD    ?= build
OPT      ?= -O3
CFLAGS_BASE = -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -g $(OPT) \
              -D_GNU_SOURCE -Iparsers -Iengine -I$(BUILD)
# We truncate on purpose (bounded buffers); gcc's guesswork warning is off.
CFLAGS_BASE += $(shell $(CC) -Werror -Wno-format-truncation -x c -c /dev/null -o /dev/null 2>/dev/null && echo -Wno-format-truncation)
PKGS     = libcurl yaml-0.1 zlib sqlite3 libpq
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS  += $(CFLAGS_BASE) $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDLIBS  += $(PKG_LIBS) $(EXTRA_LDFLAGS)

PARSER_SRC = $(wildcard parsers/*.c)
ENGINE_SRC = $(filter-out engine/main.c,$(wildcard engine/*.c))
GUIDES     = $(sort $(wildcard parsers/guides/*.guide))
CODES      = $(sort $(wildcard parsers/codes/*.tsv))
GEN_SRC    = $(BUILD)/embedded_data.c
LIB_OBJ    = $(PARSER_SRC:%.c=$(BUILD)/%.o) $(ENGINE_SRC:%.c=$(BUILD)/%.o) $(BUILD)/embedded_data.o
TEST_SRC   = $(wildcard tests/*.c)
TEST_OBJ   = $(TEST_SRC:%.c=$(BUILD)/%.o)
BIN        = $(BUILD)/clearinghouse
TESTBIN    = $(BUILD)/tests/unit

# Debian packages: libraries, test servers, sanitizer/fuzzer runtime.
APT_PKGS = build-essential pkg-config libcurl4-openssl-dev libyaml-dev zlib1g-dev \
           libsqlite3-dev libpq-dev libcriterion-dev openssh-server nginx-light postgresql \
           openssl curl python3 clang libclang-rt-14-dev valgrind procps

.PHONY: all deps test asan valgrind fuzz bench demo install clean check-deps

all: $(BIN)

# Installs only what is missing, so it costs a second when all is there.
deps:
	@missing=""; \
	for p in $(PKGS) criterion; do pkg-config --exists $$p 2>/dev/null || missing="$$missing $$p"; done; \
	for b in /usr/sbin/sshd /usr/sbin/nginx /usr/lib/postgresql/*/bin/initdb /usr/bin/clang /usr/bin/valgrind /usr/bin/curl /usr/bin/python3 /usr/bin/openssl; do \
	  [ -x $$b ] || missing="$$missing $$b"; done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing Debian packages (missing:$$missing)"; \
	  if [ "$$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $(APT_PKGS) >/dev/null; \
	fi

$(BIN): $(LIB_OBJ) $(BUILD)/engine/main.o
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c $(wildcard parsers/*.h engine/*.h tests/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# Guide tables and code lists are compiled into the binary.
$(GEN_SRC): $(GUIDES) $(CODES) tools/embed.sh
	@mkdir -p $(BUILD)
	sh tools/embed.sh $(GUIDES) $(CODES) > $@.tmp && mv $@.tmp $@

$(BUILD)/embedded_data.o: $(GEN_SRC)
	$(CC) $(CFLAGS) -c -o $@ $<

$(TESTBIN): $(LIB_OBJ) $(TEST_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcriterion

# The benchmark programs are built too (not run), so a change that breaks
# `make bench` fails here.
test: deps
	$(MAKE) $(BIN) $(TESTBIN)
	$(MAKE) -C bench BUILD=$(abspath $(BUILD))/bench
	CH_BIN=$(abspath $(BIN)) CH_ROOT=$(CURDIR) $(TESTBIN) -j2 --short-filename

asan: deps
	$(MAKE) BUILD=build-asan OPT=-O1 CC=clang \
	  EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined" build-asan/clearinghouse build-asan/tests/unit
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  CH_BIN=$(abspath build-asan/clearinghouse) CH_ROOT=$(CURDIR) build-asan/tests/unit -j2 --short-filename

valgrind: deps
	$(MAKE) $(BIN) $(TESTBIN)
	CH_BIN=$(abspath $(BIN)) CH_ROOT=$(CURDIR) CH_VALGRIND=1 valgrind -q --error-exitcode=9 \
	  --leak-check=full --errors-for-leak-kinds=definite --trace-children=yes --trace-children-skip='/usr/*,/bin/*,/sbin/*' $(TESTBIN) -j1 --short-filename

FUZZ_SECONDS ?= 60
# The tokenizer: its hot loop and the cold parts split off it.
READER_SRC = parsers/x12_reader.c parsers/x12_isa.c parsers/x12_binary.c parsers/x12_elements.c
# Three targets: the tokenizer (fuzz_reader), the validator with the three
# response readers (fuzz_responses), and the YAML fast scanner against
# libyaml (fuzz_ydoc, differential); FUZZ_SECONDS each.
FUZZ_CFLAGS = -std=c11 -g -O1 -D_GNU_SOURCE -Iparsers -Ibuild-fuzz -fsanitize=fuzzer,address,undefined
fuzz: deps
	@mkdir -p build-fuzz/corpus
	sh tools/embed.sh $(GUIDES) $(CODES) > build-fuzz/embedded_data.c
	clang $(FUZZ_CFLAGS) -o build-fuzz/fuzz_reader tests/fuzz/fuzz_reader.c $(READER_SRC) \
	  parsers/x12_diag.c parsers/x12_envelope.c parsers/json_out.c parsers/ch_error.c parsers/x12_writer.c
	clang $(FUZZ_CFLAGS) -o build-fuzz/fuzz_responses tests/fuzz/fuzz_responses.c $(PARSER_SRC) \
	  build-fuzz/embedded_data.c
	clang $(FUZZ_CFLAGS) -Iengine -o build-fuzz/fuzz_ydoc tests/fuzz/fuzz_ydoc.c engine/ydoc.c engine/ydoc_fast.c \
	  parsers/ch_error.c -lyaml
	cp -n tests/corpus/*/* tests/fuzz/regressions/* build-fuzz/corpus/ 2>/dev/null || true
	@mkdir -p build-fuzz/ydoc-corpus
	cp tests/data/encounters/good/* tests/data/encounters/bad/* conf/*.yaml payer-profiles/*.yaml build-fuzz/ydoc-corpus/
	build-fuzz/fuzz_ydoc -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=512 -max_len=8192 \
	  -print_final_stats=1 build-fuzz/ydoc-corpus || exit 1
	for t in fuzz_reader fuzz_responses; do \
	  build-fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=512 -max_len=65536 \
	    -print_final_stats=1 build-fuzz/corpus || exit 1; done

bench: deps $(BIN)
	$(MAKE) -C bench BUILD=$(abspath $(BUILD))/bench
	sh bench/run.sh $(abspath $(BIN)) $(abspath $(BUILD))/bench

demo: deps $(BIN)
	sh tools/demo.sh $(abspath $(BIN))

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/clearinghouse/payer-profiles \
	  $(DESTDIR)$(PREFIX)/share/clearinghouse/conf $(DESTDIR)$(PREFIX)/share/doc/clearinghouse
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/clearinghouse
	-install -m 0644 payer-profiles/*.yaml $(DESTDIR)$(PREFIX)/share/clearinghouse/payer-profiles/ 2>/dev/null
	-install -m 0644 conf/*.yaml conf/*.service $(DESTDIR)$(PREFIX)/share/clearinghouse/conf/ 2>/dev/null
	install -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/clearinghouse/
	-install -m 0644 docs/*.md $(DESTDIR)$(PREFIX)/share/doc/clearinghouse/ 2>/dev/null

clean:
	rm -rf build build-asan build-fuzz
