# optroute — top-level build.
#
#   make            install missing packages, build everything
#   make test       build, run every CUnit suite and every integration test
#   make run        bring the appliance up on virtual NICs (see README.md)
#   make bench-table ENTRIES=N      consent table benchmark
#   make SAN=1 ...  the same with ASan + UBSan (separate build directory)
#   make NODEPS=1 ...  skip the package check (offline work)
#
# The public targets first make sure the Debian packages are there (`deps`),
# then re-enter make (OR_INNER=1) for the real work, so pkg-config is only
# asked once the packages exist.

SAN ?= 0
ifeq ($(SAN),1)
BUILD ?= build-san
else
BUILD ?= build
endif
export SAN BUILD

DEB_PKGS := build-essential pkg-config libdpdk-dev dpdk-dev dpdk liburcu-dev \
	libsodium-dev libcunit1-dev liblmdb-dev libjansson-dev libinih-dev \
	libmicrohttpd-dev libsystemd-dev libpcap-dev iproute2 python3 tcpdump \
	lmdb-utils strace curl libssl-dev gdb postgresql libpq-dev

PUBLIC := all test unit integration run bench-table bench-dataplane bench-control \
	bench-abuse bench-replay bench-pg-ref bench-fleet install fuzz fuzz-build fuzz-replay

# make soak: cp_crash.sh with 100 kill -9 rounds (make test runs 5).
PUBLIC += soak

.PHONY: $(PUBLIC) deps clean help
.DEFAULT_GOAL := all

ifneq ($(OR_INNER),1)
# ---------------------------------------------------------------- front ----
ifeq ($(NODEPS),1)
DEPS :=
else
DEPS := deps
endif

$(PUBLIC): $(DEPS)
	@$(MAKE) --no-print-directory OR_INNER=1 $@

# A single file of the build (build/tests/unit_tests, build/bin/NAME) is
# made by the inner make as well.
.PHONY: FORCE
$(BUILD)/%: $(DEPS) FORCE
	@$(MAKE) --no-print-directory OR_INNER=1 $@

# Installs whatever Debian package is missing; non-interactive, as root.
deps:
	@missing=""; for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' \
			|| missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then \
			echo "deps: missing packages:$$missing (run 'make deps' as root)" >&2; exit 1; \
		fi; \
		echo "deps: installing$$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -q >/dev/null && \
		apt-get install -y -q --no-install-recommends $$missing >/dev/null \
			|| { echo "deps: apt-get failed" >&2; exit 1; }; \
	fi

clean:
	rm -rf build build-san build-x86-64* build-san-x86-64*

help:
	@sed -n '2,12p' Makefile

else
# ---------------------------------------------------------------- inner ----
CC ?= gcc
MARCH ?= native
PKGS := libdpdk liburcu-qsbr liburcu-cds libsodium cunit lmdb jansson inih \
	libsystemd libpcap libcrypto libpq
# Only optroute-exporter serves HTTP: optroute-control, which holds the
# master key, does not link libmicrohttpd (docs/exporter.md).
EXP_PKGS := libmicrohttpd

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) $(EXP_PKGS))
PKG_LIBS := $(shell pkg-config --libs $(PKGS))
EXP_LDLIBS := $(shell pkg-config --libs $(EXP_PKGS))

CFLAGS := -std=gnu11 -g -Wall -Wextra -Werror -Wno-address-of-packed-member \
	-Iinclude -iquote . $(PKG_CFLAGS) -march=$(MARCH) -MMD -MP \
	-D_GNU_SOURCE -DALLOW_EXPERIMENTAL_API
LDLIBS := $(PKG_LIBS) -lpthread -lm
# Full RELRO, bound at start: no writable GOT, and no lazy binding, whose
# resolver saves every vector register (keys included) on the stack of the
# thread that first calls a function (tests/integration/auth_privacy.sh).
LDFLAGS := -Wl,-z,now -Wl,-z,relro

ifeq ($(SAN),1)
CFLAGS += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
else
CFLAGS += -O3
endif

BIN := $(BUILD)/bin
OBJ := $(BUILD)/obj

# Libraries: one folder, one concern; every .c in it is linked in.
DP_LIB_SRCS := $(wildcard dataplane/table/*.c dataplane/pkt/*.c dataplane/chan/*.c \
	dataplane/auth/*.c)
# What every program shares beyond the headers: the protocol's reference
# authentication (common/auth/).
COMMON_LIB_SRCS := $(wildcard common/*/*.c)
# control/store/: the consent store; control/lib/pg/: the PostgreSQL system
# of record (docs/fleet.md).
CP_LIB_SRCS := $(wildcard control/lib/*.c control/lib/pg/*.c control/store/*.c \
	control/store/pg/*.c)
DP_SRCS := $(wildcard dataplane/*.c)
CP_SRCS := $(wildcard control/daemon/*.c control/daemon/*/*.c)
# optroute-exporter: its main, and the rest as a library the tests link.
EXP_MAIN := control/exporter/exp_main.c
EXP_LIB_SRCS := $(filter-out $(EXP_MAIN),$(wildcard control/exporter/*.c))
CTL_SRCS := $(wildcard control/ctl/*.c)
# The other programs the same way: their main, the rest a library (the
# unit tests link them instead of compiling program sources in). For
# optroute-control that is every room of control/daemon/ but cp_main.c;
# the fuzz targets link it too.
DP_MAIN := dataplane/main.c
CP_MAIN := control/daemon/cp_main.c
CPD_SRCS := $(filter-out $(CP_MAIN),$(CP_SRCS))
CTL_MAIN := control/ctl/optroutectl.c
UNIT_SRCS := $(wildcard tests/unit/*.c)
TOOL_SRCS := $(wildcard tests/tools/*.c)
BENCH_SRCS := $(wildcard tests/bench/*.c)

objs = $(patsubst %.c,$(OBJ)/%.o,$(1))

DP_LIB := $(BUILD)/libordp.a
CP_LIB := $(BUILD)/liborcp.a
COMMON_LIB := $(BUILD)/liborcommon.a
EXP_LIB := $(BUILD)/liborexp.a
DPD_LIB := $(BUILD)/libordpd.a
CPD_LIB := $(BUILD)/liborcpd.a
CTL_LIB := $(BUILD)/liborctl.a
LIBS := $(CP_LIB) $(DP_LIB) $(COMMON_LIB)

PROGS :=
ifneq ($(DP_SRCS),)
PROGS += $(BIN)/optroute-dataplane
endif
ifneq ($(CP_SRCS),)
PROGS += $(BIN)/optroute-control
endif
ifneq ($(CTL_SRCS),)
PROGS += $(BIN)/optroutectl
endif
PROGS += $(BIN)/optroute-exporter
# optroute-store-migrate (control/migrate/): LMDB store -> PostgreSQL.
MIG_SRCS := $(wildcard control/migrate/*.c)
PROGS += $(BIN)/optroute-store-migrate
# A tool or benchmark is one file tests/{tools,bench}/NAME.c, or a folder
# tests/{tools,bench}/NAME/ whose .c files make one program.
TOOL_DIRS := $(patsubst %/,%,$(dir $(wildcard tests/tools/*/*.c)))
BENCH_DIRS := $(patsubst %/,%,$(dir $(wildcard tests/bench/*/*.c)))
TOOLS := $(patsubst tests/tools/%.c,$(BIN)/%,$(TOOL_SRCS)) \
	$(patsubst tests/tools/%,$(BIN)/%,$(sort $(TOOL_DIRS)))
BENCHES := $(patsubst tests/bench/%.c,$(BIN)/%,$(BENCH_SRCS)) \
	$(patsubst tests/bench/%,$(BIN)/%,$(sort $(BENCH_DIRS)))
UNIT := $(BUILD)/tests/unit_tests

all: $(PROGS) $(TOOLS) $(BENCHES) $(UNIT)

$(OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(DP_LIB): $(call objs,$(DP_LIB_SRCS))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(CP_LIB): $(call objs,$(CP_LIB_SRCS))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(COMMON_LIB): $(call objs,$(COMMON_LIB_SRCS))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(EXP_LIB): $(call objs,$(EXP_LIB_SRCS))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(DPD_LIB): $(call objs,$(filter-out $(DP_MAIN),$(DP_SRCS)))
$(CPD_LIB): $(call objs,$(CPD_SRCS))
$(CTL_LIB): $(call objs,$(filter-out $(CTL_MAIN),$(CTL_SRCS)))
$(DPD_LIB) $(CPD_LIB) $(CTL_LIB):
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BIN)/optroute-dataplane: $(call objs,$(DP_MAIN)) $(DPD_LIB) $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(BIN)/optroute-control: $(call objs,$(CP_MAIN)) $(CPD_LIB) $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(BIN)/optroutectl: $(call objs,$(CTL_MAIN)) $(CTL_LIB) $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(BIN)/optroute-exporter: $(call objs,$(EXP_MAIN)) $(EXP_LIB) $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS) $(EXP_LDLIBS)

# It reads the daemon's configuration file (cp_cfg.c, in liborcpd.a).
$(BIN)/optroute-store-migrate: $(call objs,$(MIG_SRCS)) $(CPD_LIB) $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(BIN)/%: $(OBJ)/tests/tools/%.o $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(BIN)/%: $(OBJ)/tests/bench/%.o $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

define multi_file_prog
$(BIN)/$(notdir $(1)): $(call objs,$(wildcard $(1)/*.c)) $(LIBS)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) $$^ -o $$@ $$(LDLIBS)
endef
$(foreach d,$(sort $(TOOL_DIRS) $(BENCH_DIRS)),$(eval $(call multi_file_prog,$(d))))

$(UNIT): $(call objs,$(UNIT_SRCS)) $(EXP_LIB) $(CTL_LIB) $(CPD_LIB) \
		$(DPD_LIB) $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

.SECONDARY:

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)

# ---- tests ----
# CUnit suites first (their summary is printed), then every integration test;
# the last line counts both.
test: all
	@BUILD=$(BUILD) SAN=$(SAN) tests/run-all.sh

unit: all
	$(UNIT)

integration: all
	@BUILD=$(BUILD) tests/run-all.sh --integration-only

# ---- benchmarks ----
ENTRIES ?= 10000000
SECONDS ?= 10
bench-table: all
	$(BIN)/bench_table --entries $(ENTRIES)

bench-dataplane: all
	@BUILD=$(BUILD) ENTRIES=$(ENTRIES) SECONDS=$(SECONDS) RUNS=$(RUNS) AUTH=$(AUTH) \
		FRAMES=$(FRAMES) PAYLOAD=$(PAYLOAD) tests/bench/bench-dataplane.sh

bench-control: all
	@BUILD=$(BUILD) tests/bench/bench-control.sh

# Import rate with and without abuse of the management socket.
bench-abuse: all
	@BUILD=$(BUILD) RUNS=$(RUNS) CHANGES=$(CHANGES) tests/bench/bench-abuse.sh

bench-replay: all
	$(BIN)/bench_replay $(if $(FILL),--fill $(FILL)) $(if $(CHECKS),--checks $(CHECKS))

# pg_reference_per_s of docs/fleet.md section 14 on a throwaway server:
# plain batched upserts into ROWS (default 10M) rows.
bench-pg-ref: all
	@BUILD=$(BUILD) ROWS=$(ROWS) CHANGES=$(CHANGES) tests/bench/bench_pg_ref/run.sh

# Two appliances on one PostgreSQL filled with STORE_RECORDS (default 10M)
# records: durable rate against the reference, propagation, catch-up.
bench-fleet: all
	@BUILD=$(BUILD) tests/bench/bench-fleet.sh

# The control plane's kill -9 test at length (ROUNDS=N to change).
ROUNDS ?= 100
soak: all
	@BUILD=$(BUILD) ROUNDS=$(ROUNDS) tests/integration/cp_crash.sh

# exec: make's child is run.sh itself, so a signal to make (timeout, kill)
# waits for run.sh's clean-up; a shell in between would die at once.
run: all
	@exec deploy/dev/run.sh

PREFIX ?= /usr/local
install: all
	@BUILD=$(BUILD) PREFIX=$(PREFIX) DESTDIR=$(DESTDIR) deploy/install.sh

# ---- fuzz targets: make fuzz FUZZ=NAME SECONDS=N (docs/fuzzing.md) ----
include tests/fuzz/fuzz.mk
endif
