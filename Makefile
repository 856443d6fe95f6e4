# One Makefile for the whole tree. Everything is found by convention, so adding a module, a
# service, a migration or a test never means editing this file:
#   lib/*.c                      -> $(B)/libmkt.a (with the protobuf code generated from proto/)
#   services/<s>/, tools/<t>/, tests/programs/<p>/  (any folder with a main.c)
#                                -> $(B)/bin/<name>, with <folder>/migrations/*.sql embedded
#   tests/unit/*.c               -> $(B)/tests/unit-lib
#   tests/unit/<x>/*.c           -> $(B)/tests/unit-<x>, linked with <x>'s objects except main.o
#   tests/integration/*.c        -> $(B)/tests/it-<file>, run by tests/harness/run.sh
# `make asan` builds the same tree with AddressSanitizer + UBSan under build/asan.

B        ?= build
SANITIZE ?=
CC       ?= cc
PKGS     := libnats libpq libprotobuf-c libuv libcurl jansson libmicrohttpd libsodium libcrypto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CRIT_LIBS  := $(shell pkg-config --libs criterion 2>/dev/null)

CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral -Wno-format-truncation \
            -fno-strict-aliasing -pthread -MMD -MP
CPPFLAGS += -Ilib -Itests/support -I$(B)/gen -I$(B)/gen/proto $(PKG_CFLAGS) -DMKT_VERSION='"$(VERSION)"'
LDLIBS   += $(PKG_LIBS) -lpthread -lm
VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo dev)
ifeq ($(SANITIZE),1)
CFLAGS   += -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -O1
LDFLAGS  += -fsanitize=address,undefined
endif

PROTOS     := $(wildcard proto/*.proto)
PROTO_C    := $(patsubst proto/%.proto,$(B)/gen/proto/%.pb-c.c,$(PROTOS))
PROTO_H    := $(PROTO_C:.c=.h)
LIB_SRCS   := $(wildcard lib/*.c)
LIB_OBJS   := $(patsubst %.c,$(B)/obj/%.o,$(LIB_SRCS)) $(PROTO_C:.c=.o)
LIB_SQL    := $(sort $(wildcard lib/migrations/*.sql))
LIBMKT     := $(B)/libmkt.a

PROG_DIRS  := $(patsubst %/main.c,%,$(wildcard services/*/main.c tools/*/main.c tests/programs/*/main.c))
prog_name   = $(notdir $(1))
PROGRAMS   := $(foreach d,$(PROG_DIRS),$(B)/bin/$(call prog_name,$(d)))

SUPPORT_OBJS := $(patsubst %.c,$(B)/obj/%.o,$(wildcard tests/support/*.c))
UNIT_LIB_SRCS := $(wildcard tests/unit/*.c)
UNIT_DIRS  := $(patsubst %/,%,$(dir $(wildcard tests/unit/*/*.c)))
UNIT_BINS  := $(if $(UNIT_LIB_SRCS),$(B)/tests/unit-lib) $(foreach d,$(sort $(UNIT_DIRS)),$(B)/tests/unit-$(notdir $(d)))
IT_SRCS    := $(wildcard tests/integration/*.c)
IT_BINS    := $(patsubst tests/integration/%.c,$(B)/tests/it-%,$(IT_SRCS))

# Generated sources are kept, so a second `make` has nothing to do.
.SECONDARY: $(PROTO_C) $(PROTO_H)

.PHONY: all tests deps asan test test-docs test-unit test-integration test-asan valgrind bench up down status logs format clean
.DEFAULT_GOAL := all
all: $(PROGRAMS)
tests: $(UNIT_BINS) $(IT_BINS) $(PROGRAMS)

deps:
	@bash tools/deps.sh

# ---- generated code -------------------------------------------------------------------------
$(B)/gen/proto/%.pb-c.c $(B)/gen/proto/%.pb-c.h: proto/%.proto
	@mkdir -p $(B)/gen/proto
	protoc-c --proto_path=proto --c_out=$(B)/gen/proto $<

$(B)/obj/%.o: %.c | $(PROTO_H)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/gen/proto/%.pb-c.o: $(B)/gen/proto/%.pb-c.c
	$(CC) $(CPPFLAGS) $(filter-out -Wshadow,$(CFLAGS)) -c -o $@ $<

$(LIBMKT): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

# ---- programs ---------------------------------------------------------------------------------
define program
$(B)/gen/sql/$(2).c: tools/build/embed-sql.sh $(LIB_SQL) $(sort $(wildcard $(1)/migrations/*.sql))
	@mkdir -p $$(dir $$@)
	bash tools/build/embed-sql.sh $$@ $(LIB_SQL) $(sort $(wildcard $(1)/migrations/*.sql))
$(B)/bin/$(2): $(patsubst %.c,$(B)/obj/%.o,$(wildcard $(1)/*.c)) $(B)/obj/gen/sql/$(2).o $(LIBMKT)
	@mkdir -p $$(dir $$@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $$@ $$^ $(LDLIBS)
endef
$(foreach d,$(PROG_DIRS),$(eval $(call program,$(d),$(call prog_name,$(d)))))

$(B)/obj/gen/sql/%.o: $(B)/gen/sql/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/gen/sql/lib-only.c: tools/build/embed-sql.sh $(LIB_SQL)
	@mkdir -p $(dir $@)
	bash tools/build/embed-sql.sh $@ $(LIB_SQL)

# ---- tests ------------------------------------------------------------------------------------
$(B)/tests/unit-lib: $(patsubst %.c,$(B)/obj/%.o,$(UNIT_LIB_SRCS)) $(SUPPORT_OBJS) $(B)/obj/gen/sql/lib-only.o $(LIBMKT)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CRIT_LIBS)

define unit_dir
$(B)/tests/unit-$(2): $(patsubst %.c,$(B)/obj/%.o,$(wildcard tests/unit/$(2)/*.c)) \
    $(patsubst %.c,$(B)/obj/%.o,$(filter-out %/main.c,$(wildcard services/$(2)/*.c tools/$(2)/*.c))) \
    $(SUPPORT_OBJS) $(B)/obj/gen/sql/$(2).o $(LIBMKT)
	@mkdir -p $$(dir $$@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $$@ $$^ $(LDLIBS) $(CRIT_LIBS)
endef
$(foreach d,$(sort $(UNIT_DIRS)),$(eval $(call unit_dir,$(d),$(notdir $(d)))))

$(B)/tests/it-%: $(B)/obj/tests/integration/%.o $(SUPPORT_OBJS) $(B)/obj/gen/sql/lib-only.o $(LIBMKT)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CRIT_LIBS)

# ---- running ------------------------------------------------------------------------------------
# `make test`: install what is missing, build everything with -Werror, run the unit tests, then
# build again with ASan+UBSan and run unit and integration tests against the sanitized binaries.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

test: deps
	$(MAKE) -j$(JOBS) tests
	$(MAKE) test-docs
	$(MAKE) test-unit
	$(MAKE) test-asan

# The OpenAPI document is valid and describes exactly the gateway's route table.
test-docs:
	@perl tools/openapi-check.pl docs/openapi.yaml services/gateway/routes.c

test-unit: $(UNIT_BINS)
	@bash tests/harness/unit.sh $(UNIT_BINS)

test-integration: tests
	@bash tests/harness/run.sh $(B) $(IT)

asan:
	$(MAKE) -j$(JOBS) B=build/asan SANITIZE=1 tests

test-asan: asan
	$(MAKE) B=build/asan SANITIZE=1 test-unit
	$(MAKE) B=build/asan SANITIZE=1 test-integration

# The unit tests under valgrind (memcheck, definite leaks are errors); slower than test-asan,
# which `make test` runs, and useful when ASan's view is in doubt.
valgrind: tests
	UNIT_WRAPPER="valgrind --trace-children=yes --trace-children-skip=*python*,*/curl --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite -q" \
	  bash tests/harness/unit.sh $(UNIT_BINS)

bench: deps all
	@bash bench/run.sh $(B)

up: deps all
	@bash deploy/local/platform.sh up $(B)
down:
	@bash deploy/local/platform.sh down $(B)
status:
	@bash deploy/local/platform.sh status $(B)
logs:
	@bash deploy/local/platform.sh logs $(B)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
