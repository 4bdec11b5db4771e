# smartcar for Lua: build, test, demo.
#   make                 build the C core for Lua 5.4 (build/5.4/smartcar/core.so)
#   make LUA=5.3|5.2|5.1|luajit
#   make test            lint, then the whole suite under 5.4, 5.3, 5.2, 5.1 and LuaJIT
#   make test LUA=5.4    the suite under one Lua
#   make demo            the quickstart against the local emulator
#   make memcheck        the suite under valgrind (Lua 5.4)
#   make docs            API reference with LDoc into doc/
#   make check-memory    the Lua 5.4 suite with the C core under ASan+UBSan, then under valgrind
#   make fuzz            the libFuzzer targets (fuzz/), FUZZ_SECONDS (default 60) each

LUA ?= 5.4
ALL_LUAS := 5.4 5.3 5.2 5.1 luajit
ifeq ($(origin LUA),command line)
TEST_LUAS := $(LUA)
else
TEST_LUAS := $(ALL_LUAS)
endif

ifeq ($(LUA),luajit)
LUA_PC := luajit
LUA_BIN := luajit
else
LUA_PC := lua$(LUA)
LUA_BIN := lua$(LUA)
endif

CC ?= cc
CFLAGS ?= -O2 -g
WARN := -std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
# Only the headers of Lua: never link -llua, the interpreter provides the symbols.
# Deferred (=, not :=): pkg-config runs when a build needs it, after `deps` installed it.
LUA_INCDIR ?= $(shell pkg-config --cflags-only-I $(LUA_PC) | sed 's/^-I//')
CURL_CFLAGS = $(shell pkg-config --cflags libcurl libcrypto)
CURL_LIBS = $(shell pkg-config --libs libcurl libcrypto)
LIBFLAG ?= -shared

SRC := $(wildcard src/*.c)
HDR := $(wildcard src/*.h)
OUT := build/$(LUA)/smartcar/core.so

.PHONY: all deps test demo memcheck docs lint clean bench

all: $(OUT)

$(OUT): $(SRC) $(HDR)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) -fPIC -I$(LUA_INCDIR) $(CURL_CFLAGS) $(LIBFLAG) -o $@ $(SRC) $(CURL_LIBS)

deps:
	@scripts/deps test

lint:
	luacheck -q lua spec examples bench emulator bin/*.lua 2>/dev/null || luacheck lua spec examples bench emulator

test: deps
	@scripts/test $(TEST_LUAS)

demo:
	@scripts/deps demo
	@$(MAKE) --no-print-directory all LUA=5.4
	@scripts/demo

memcheck: deps
	@$(MAKE) --no-print-directory all LUA=5.4 CFLAGS="-O0 -g"
	@SMARTCAR_MEMCHECK=1 scripts/suite 5.4

docs: deps
	@mkdir -p build/ldoc
	@lua5.4 scripts/endpoint-docs.lua > build/ldoc/vehicle_endpoints.lua
	@ldoc -c config.ld . 2>&1 | tee build/ldoc/log
	@! grep -vE '^(reading configuration from|output written to)' build/ldoc/log || (echo "ldoc warnings" >&2; false)

bench: deps
	@$(MAKE) --no-print-directory all LUA=5.4
	@bench/run

# build/ holds everything make builds; a `luarocks make` run in the checkout leaves its
# objects beside the sources and the module in smartcar/.
clean:
	rm -rf build doc luarocks-tree smartcar src/*.o

# --- memory checks: ASan+UBSan build (gcc) and valgrind build, each in its own dir ---
SANITIZE := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ASAN_OUT := build/asan-5.4/smartcar/core.so
MEMCHECK_OUT := build/memcheck-5.4/smartcar/core.so

.PHONY: check-memory fuzz

check-memory: deps
	@$(MAKE) --no-print-directory all LUA=5.4 CC=gcc CFLAGS="-O1 -g $(SANITIZE)" OUT=$(ASAN_OUT)
	@$(MAKE) --no-print-directory all LUA=5.4 CFLAGS="-O0 -g" OUT=$(MEMCHECK_OUT)
	@$(MAKE) --no-print-directory all LUA=luajit
	@scripts/check-memory $(ASAN_OUT) $(MEMCHECK_OUT)

# --- fuzzing: libFuzzer (clang) targets fuzz/<target>.c linked with src/*.c and Lua 5.4 ---
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_TARGETS := parse build json
FUZZ_FLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_LUA_CFLAGS = $(shell pkg-config --cflags lua5.4)
FUZZ_LUA_LIBS = $(shell pkg-config --libs lua5.4)
FUZZ_BINS := $(FUZZ_TARGETS:%=build/fuzz/%)

build/fuzz/%: fuzz/%.c fuzz/common.h $(SRC) $(HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(filter-out -Werror,$(WARN)) $(FUZZ_FLAGS) $(FUZZ_LUA_CFLAGS) $(CURL_CFLAGS) -o $@ $< $(SRC) \
	  $(FUZZ_LUA_LIBS) $(CURL_LIBS) -lm

fuzz: $(FUZZ_BINS)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run $(FUZZ_TARGETS)
