# Fuzz targets (tests/fuzz/NAME.c, docs/fuzzing.md), included by the
# Makefile's inner section. Two builds of every target:
#   - replay: the normal compiler and flags, the target's
#     LLVMFuzzerTestOneInput with tests/fuzz/replay_main.c, run over the
#     seed corpora by `make test` (tests/integration/fuzz_replay.sh);
#   - libFuzzer: clang, ASan + UBSan without recovery, every project source
#     compiled again with coverage instrumentation (build/fuzz/clang/).
#   make fuzz FUZZ=NAME SECONDS=N   runs one target (all of them, one after
#                                   the other, without FUZZ)
#   make fuzz-replay                replays every seed corpus

FUZZ_NAMES := $(filter-out replay_main fz_%,$(basename $(notdir \
	$(wildcard tests/fuzz/*.c))))
FUZZ_HELPERS := $(wildcard tests/fuzz/fz_*.c)
# Program sources the targets need beyond the libraries: the dataplane's
# configuration parser, the control daemon (liborcpd.a: every room of
# control/daemon/ but cp_main.c) and the exporter's configuration reader.
FUZZ_PROG_SRCS := $(wildcard dataplane/config*.c) $(CPD_SRCS) \
	control/exporter/exp_cfg.c

# ---- replay build ----
FZR := $(BUILD)/fuzz/replay
FUZZ_REPLAY_BINS := $(addprefix $(FZR)/,$(FUZZ_NAMES))

# The replay programs take those from the programs' libraries.
$(FZR)/%: $(OBJ)/tests/fuzz/%.o $(OBJ)/tests/fuzz/replay_main.o \
		$(call objs,$(FUZZ_HELPERS)) $(DPD_LIB) $(EXP_LIB) $(CPD_LIB) \
		$(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

# `make test` replays the corpora: the replay programs come with it.
test: $(FUZZ_REPLAY_BINS)

# ---- libFuzzer build ----
FZC := $(BUILD)/fuzz/clang
FUZZ_CC ?= clang
FUZZ_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Wno-address-of-packed-member \
	-Iinclude -iquote . $(PKG_CFLAGS) -march=$(MARCH) -MMD -MP -D_GNU_SOURCE \
	-DALLOW_EXPERIMENTAL_API -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_LIB_SRCS := $(DP_LIB_SRCS) $(COMMON_LIB_SRCS) $(CP_LIB_SRCS) \
	$(FUZZ_PROG_SRCS)
FUZZ_BINS := $(addprefix $(FZC)/bin/,$(FUZZ_NAMES))

$(FZC)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FZC)/libfz.a: $(patsubst %.c,$(FZC)/obj/%.o,$(FUZZ_LIB_SRCS))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(FZC)/bin/%: $(FZC)/obj/tests/fuzz/%.o \
		$(patsubst %.c,$(FZC)/obj/%.o,$(FUZZ_HELPERS)) $(FZC)/libfz.a
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -fsanitize=fuzzer,address,undefined $^ -o $@ $(LDLIBS)

-include $(shell find $(FZC)/obj -name '*.d' 2>/dev/null)

.PHONY: fuzz fuzz-build fuzz-replay
fuzz-build:
	@command -v $(FUZZ_CC) >/dev/null || { echo "fuzz: $(FUZZ_CC) not \
	found (apt-get install -y clang)" >&2; exit 1; }
	@$(MAKE) --no-print-directory OR_INNER=1 $(FUZZ_BINS)

fuzz-replay: $(FUZZ_REPLAY_BINS)
	@BUILD=$(BUILD) tests/integration/fuzz_replay.sh --replay-only

# New inputs go to build/fuzz/work/NAME (the first corpus directory, the
# one libFuzzer writes); the seeds in the repository are only read.
FUZZ ?=
fuzz: fuzz-build
	@for t in $(if $(FUZZ),$(FUZZ),$(FUZZ_NAMES)); do \
		[ -x $(FZC)/bin/$$t ] || { echo "fuzz: no target '$$t' \
		(targets: $(FUZZ_NAMES))" >&2; exit 2; }; \
		mkdir -p $(BUILD)/fuzz/work/$$t $(BUILD)/fuzz/artifacts/$$t; \
		echo "fuzz: $$t for $(SECONDS) s"; \
		$(FZC)/bin/$$t -max_total_time=$(SECONDS) -print_final_stats=1 \
			-dict=tests/fuzz/$$t.dict \
			-artifact_prefix=$(BUILD)/fuzz/artifacts/$$t/ \
			$(FUZZ_ARGS) $(BUILD)/fuzz/work/$$t tests/fuzz/corpus/$$t \
			|| exit 1; \
	done
