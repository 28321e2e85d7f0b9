# tq: one GNU Makefile. `make` builds everything; `make check` runs every
# test against real servers it starts itself; `make run` shows tq working.

CC	?= cc
PREFIX	?= /usr/local
O	?= build
BIN	?= bin

PKGS	:= librabbitmq libmariadb libbsd-overlay jansson
# libmicrohttpd: the HTTP of tq web and of the supervisor's /metrics,
# linked into bin/tq and bin/tq-supervisor only (the workers stay without
# it and GnuTLS).
WEB_PKGS := libmicrohttpd
WARN	:= -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wno-unused-parameter
HARDEN	:= -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
CFLAGS	?= -O2 -g
# Sanitizers (make asan sets them); kept apart from CFLAGS so that a
# command-line value does not replace the flags below.
SANFLAGS ?=
override CFLAGS += $(SANFLAGS)
override CFLAGS += -std=gnu11 -D_GNU_SOURCE -pthread $(WARN) $(HARDEN) -Ilib \
	   -Isupervisor -Iworker \
	   $(shell pkg-config --cflags $(PKGS) 2>/dev/null) \
	   $(shell pkg-config --cflags $(WEB_PKGS) 2>/dev/null)
override LDFLAGS += -pie -Wl,-z,relro,-z,now -pthread $(SANFLAGS)
override LDLIBS += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -ldl

LIB_SRCS := lib/log.c lib/util.c lib/uuid.c lib/url.c lib/task.c \
	    lib/config.c lib/inifile.c lib/store.c lib/store_schema.c \
	    lib/store_submit.c lib/store_run.c lib/store_reconcile.c \
	    lib/store_inspect.c lib/store_rollup.c lib/store_ops.c \
	    lib/store_cron.c lib/store_web.c lib/store_limit.c lib/broker.c lib/client.c \
	    lib/api.c lib/cron.c lib/history.c lib/tally.c \
	    lib/proto.c
CLI_SRCS := cli/tq.c cli/common.c cli/submit.c cli/show.c cli/stats.c cli/ops.c \
	    cli/cron.c cli/doctor.c cli/admin.c cli/workers.c cli/web.c \
	    cli/web_http.c cli/web_api.c cli/web_act.c cli/web_util.c \
	    cli/limit.c cli/web_nodes.c cli/web_sample.c
# tq web's pages, built into bin/tq (cli/web/embed writes them as C).
WEB_FILES := cli/web/index.html cli/web/app.js cli/web/app.css cli/web/favicon.svg \
	     cli/web/vendor/uPlot.iife.min.js cli/web/vendor/uPlot.min.css \
	     cli/web/vendor/LICENSE.uplot
WORKER_SRCS := worker/worker.c worker/conn.c worker/round.c worker/runner.c \
	       worker/link.c worker/periodic.c worker/ledger.c \
	       worker/handlers.c worker/exec.c worker/plugin.c worker/spawn.c \
	       worker/serve.c worker/serve_frame.c
SUP_SRCS := supervisor/supervisor.c supervisor/pool.c supervisor/db.c \
	    supervisor/control.c supervisor/policy.c supervisor/metrics.c \
	    supervisor/loop.c
PROXY_SRCS := chaos/proxy.c chaos/proxy_util.c chaos/proxy_relay.c \
	      chaos/proxy_rules.c chaos/proxy_control.c
UNIT_SRCS := tests/unit/main.c tests/unit/test_uuid.c tests/unit/test_url.c \
	     tests/unit/test_task.c tests/unit/test_config.c \
	     tests/unit/test_util.c tests/unit/test_proto.c \
	     tests/unit/test_policy.c tests/unit/test_cron.c \
	     tests/unit/test_history.c tests/unit/test_serve.c

LIB_OBJS := $(LIB_SRCS:%.c=$(O)/%.o)
CLI_OBJS := $(CLI_SRCS:%.c=$(O)/%.o)
WORKER_OBJS := $(WORKER_SRCS:%.c=$(O)/%.o)
SUP_OBJS := $(SUP_SRCS:%.c=$(O)/%.o)
PROXY_OBJS := $(PROXY_SRCS:%.c=$(O)/%.o)
UNIT_OBJS := $(UNIT_SRCS:%.c=$(O)/%.o)
ALL_OBJS := $(LIB_OBJS) $(CLI_OBJS) $(WORKER_OBJS) $(SUP_OBJS) $(UNIT_OBJS) \
	    $(O)/tests/tools/rawpub.o $(O)/tests/tools/explain.o \
	    $(O)/tests/tools/served.o $(PROXY_OBJS) $(O)/examples/producer.o \
	    $(O)/tests/bench/bench.o $(O)/tests/abi/layout.o

PROGS	:= $(BIN)/tq $(BIN)/tq-worker $(BIN)/tq-supervisor

# libtq.so: the soname's number changes with the ABI, the minor number
# with additions (lib/tq.h says which is which).
TQ_SOVERSION := 1
TQ_VERSION   := 1.1.0
LIBTQ_SO     := $(O)/libtq.so.$(TQ_VERSION)


.PHONY: all check unit integration chaos bench run install clean services \
	asan valgrind deps examples cppcheck house

all: $(PROGS) $(O)/libtq.so

$(O)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# libtq's objects serve libtq.a and libtq.so alike: position-independent,
# and hidden but for the TQ_API functions of tq.h. (The programs link
# libtq.a: hidden symbols link statically as any other.)
$(LIB_OBJS): override CFLAGS += -fPIC -fvisibility=hidden

$(O)/libtq.a: $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

# The shared library for other programs and languages (the examples,
# clients/python): its dependencies are its own (DT_NEEDED), so that
# -ltq, or a dlopen, is all a user needs.
$(LIBTQ_SO): $(LIB_OBJS)
	$(CC) -shared -Wl,-soname,libtq.so.$(TQ_SOVERSION) -Wl,-z,defs \
	    $(filter-out -pie,$(LDFLAGS)) -o $@ $^ $(LDLIBS)

$(O)/libtq.so: $(LIBTQ_SO)
	ln -sf $(notdir $(LIBTQ_SO)) $(O)/libtq.so.$(TQ_SOVERSION)
	ln -sf libtq.so.$(TQ_SOVERSION) $@

$(BIN)/tq: $(CLI_OBJS) $(O)/cli/web_assets.o $(O)/libtq.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) \
	    $(shell pkg-config --libs $(WEB_PKGS) 2>/dev/null)

# A tool of the build, run on the build machine.
$(O)/embed: cli/web/embed.c
	@mkdir -p $(@D)
	$(CC) -O1 -o $@ cli/web/embed.c

$(O)/cli/web_assets.c: $(O)/embed $(WEB_FILES)
	@mkdir -p $(@D)
	$(O)/embed $@ $(WEB_FILES)

$(O)/cli/web_assets.o: $(O)/cli/web_assets.c cli/web.h
	$(CC) $(CFLAGS) -Icli -c $< -o $@

# uPlot, from npm at the version cli/web/package-lock.json pins, copied
# into cli/web/vendor/ (kept in the tree, so a build needs no npm).
.PHONY: web-vendor
web-vendor:
	cd cli/web && npm ci --no-audit --no-fund
	cp cli/web/node_modules/uplot/dist/uPlot.iife.min.js \
	    cli/web/node_modules/uplot/dist/uPlot.min.css cli/web/vendor/
	cp cli/web/node_modules/uplot/LICENSE cli/web/vendor/LICENSE.uplot

# Plugins call the tq_job_* functions of the worker: export them.
$(BIN)/tq-worker: $(WORKER_OBJS) $(O)/libtq.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -Wl,--export-dynamic -o $@ $^ $(LDLIBS)

$(BIN)/tq-supervisor: $(SUP_OBJS) $(O)/libtq.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) \
	    $(shell pkg-config --libs $(WEB_PKGS) 2>/dev/null)

# The chaos toolkit's fault-injecting proxy.
$(BIN)/tq-proxy: $(PROXY_OBJS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The examples of the C API (README: "The C API").
examples: $(BIN)/example-producer $(BIN)/example-plugin.so

# Linked as a user's program would be: against libtq.so, nothing else
# (found here through its run path).
$(BIN)/example-producer: $(O)/examples/producer.o $(O)/libtq.so
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(O)/examples/producer.o -L$(O) -ltq \
	    -Wl,-rpath,$(abspath $(O))

$(BIN)/example-plugin.so: examples/plugin.c lib/tq.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -fPIC -shared -o $@ examples/plugin.c

# Test tools: not installed.
$(BIN)/rawpub: $(O)/tests/tools/rawpub.o $(O)/libtq.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# A served handler in C, for the tests and chaos (speaks serve_frame.c).
$(BIN)/served: $(O)/tests/tools/served.o $(O)/worker/serve_frame.o $(O)/libtq.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/explain: $(O)/tests/tools/explain.o $(O)/libtq.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/tq-bench: $(O)/tests/bench/bench.o $(O)/libtq.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/test-unit: $(UNIT_OBJS) $(O)/supervisor/policy.o \
    $(O)/worker/serve_frame.o $(O)/libtq.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs check)

# libtq.so's ABI: exactly tq.h's producer functions exported under the
# soname, the frozen layouts in place, struct tq_task read by its size;
# and what make install puts in place builds a program through tq.pc.
$(BIN)/test-abi: $(O)/tests/abi/layout.o $(O)/libtq.so
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(O)/tests/abi/layout.o -L$(O) -ltq \
	    -Wl,-rpath,$(abspath $(O))

.PHONY: abi
abi: $(O)/libtq.so $(BIN)/tq-worker $(BIN)/test-abi
	O=$(O) bash tests/abi/exports.sh $(O) $(BIN)
	$(BIN)/test-abi
	MAKE="$(MAKE)" bash tests/abi/install.sh

deps:
	@bash ci/install-deps

unit: $(BIN)/test-unit
	CK_FORK=yes $(BIN)/test-unit

# Integration tests start the local servers themselves (ci/services).
integration: $(PROGS) $(O)/libtq.so $(BIN)/rawpub $(BIN)/explain $(BIN)/served examples
	bash tests/integration/run

# The Python package alone (clients/python; part of integration).
.PHONY: check-python
check-python: $(PROGS) $(O)/libtq.so
	bash tests/integration/run python

check: deps
	$(MAKE) all $(BIN)/test-unit
	$(MAKE) cppcheck
	$(MAKE) unit
	$(MAKE) abi
	$(MAKE) integration
	$(MAKE) compose-check

# compose.yaml is valid (docker-compose v1 from ci/install-deps; `config`
# needs no container engine). README: "Running under compose".
.PHONY: compose-check
compose-check:
	docker-compose -f compose.yaml config -q

# make compose-chaos [SCENARIO=name]: compose.yaml's cluster under
# podman-compose (images built when missing or out of date), the
# container-level chaos scenarios (chaos/compose/scenarios/), one table,
# then the cluster torn down. README: "Running under compose".
.PHONY: compose-chaos
compose-chaos:
	bash ci/containers/install-deps
	bash chaos/compose/run $(SCENARIO)

# make chaos [SCENARIO=name]: the standard suite, or one scenario.
chaos: deps
	$(MAKE) all $(BIN)/tq-proxy $(BIN)/served
	bash chaos/run $(SCENARIO)

# make bench: the broker's and the database's limits, then tq end to end,
# on the local servers; one table, JSON under var/bench/. BENCH_QUICK=1: a
# short smoke run (other knobs: tests/bench/run).
bench: deps
	$(MAKE) all $(BIN)/tq-bench
	bash tests/bench/run

# make bench-web: tq web's server time with a million finished rows
# (WEB_ROWS), and its memory with five dashboards open (tests/bench/web).
.PHONY: bench-web
bench-web: deps
	$(MAKE) all
	bash tests/bench/web

# Sanitized build (ASan + UBSan) of everything, then the unit and
# integration tests against it; any sanitizer report fails the run.
SAN	:= -fsanitize=address,undefined -fno-omit-frame-pointer
asan: deps
	$(MAKE) $(O)/libtq.so	# clients/python's tests load the plain one
	$(MAKE) O=build-asan BIN=bin-asan CFLAGS="-O1 -g" SANFLAGS="$(SAN)" \
	    all bin-asan/test-unit bin-asan/rawpub bin-asan/explain bin-asan/served bin-asan/example-producer \
	    bin-asan/example-plugin.so
	rm -rf var/asan && mkdir -p var/asan
	ASAN_OPTIONS=log_path=$(CURDIR)/var/asan/report:detect_leaks=1 \
	UBSAN_OPTIONS=log_path=$(CURDIR)/var/asan/report:print_stacktrace=1:halt_on_error=1 \
	    CK_FORK=yes bin-asan/test-unit
	ASAN_OPTIONS=log_path=$(CURDIR)/var/asan/report:detect_leaks=1 \
	UBSAN_OPTIONS=log_path=$(CURDIR)/var/asan/report:print_stacktrace=1:halt_on_error=1 \
	    TQ_BIN=$(CURDIR)/bin-asan bash tests/integration/run
	@if ls var/asan/report* >/dev/null 2>&1; then \
	    echo "asan: sanitizer reports:"; head -n 40 var/asan/report*; exit 1; fi
	@echo "asan: no sanitizer reports"

# The static checker over every C file but the unit tests (whose Check
# macros it cannot follow); any finding fails. ci/cppcheck.h defines the
# system headers' iteration macros for it.
cppcheck:
	cppcheck --quiet --enable=warning,portability,performance \
	    --inline-suppr --std=c11 -D_GNU_SOURCE -Ilib -Isupervisor -Iworker \
	    --include=ci/cppcheck.h --error-exitcode=1 \
	    --template='{file}:{line}: {severity}: {message} [{id}]' \
	    lib worker supervisor cli $(PROXY_SRCS) tests/bench tests/tools \
	    tests/fuzz tests/abi examples
	@echo "cppcheck: clean"

# The shape of the tree (ci/house): the largest file, its share, the
# functions over 120 lines and the circles between files, beside their
# targets. It reports; `ci/house --check` fails when a target is missed.
house: $(PROGS) $(BIN)/tq-proxy
	O=$(O) BIN=$(BIN) bash ci/house

# The unit tests under valgrind's memcheck.
valgrind: $(BIN)/test-unit
	CK_FORK=no valgrind --error-exitcode=1 --leak-check=full \
	    --errors-for-leak-kinds=definite $(BIN)/test-unit

run: deps
	$(MAKE) all
	bash ci/run-demo

services:
	bash ci/services up

# make install [PREFIX=/usr/local] [DESTDIR=]: the programs, libtq (the
# shared library with its soname links, and libtq.a), tq.h and tq.pc (the
# C API), the manual pages and the systemd unit. Run ldconfig after an
# install into a system directory.
install: all $(O)/libtq.a
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib \
	    $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	    $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/man/man8 \
	    $(DESTDIR)$(PREFIX)/lib/systemd/system
	install -m 0755 $(PROGS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 $(O)/libtq.a $(DESTDIR)$(PREFIX)/lib/
	install -m 0755 $(LIBTQ_SO) $(DESTDIR)$(PREFIX)/lib/
	ln -sf $(notdir $(LIBTQ_SO)) \
	    $(DESTDIR)$(PREFIX)/lib/libtq.so.$(TQ_SOVERSION)
	ln -sf libtq.so.$(TQ_SOVERSION) $(DESTDIR)$(PREFIX)/lib/libtq.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(TQ_VERSION)|' \
	    lib/tq.pc.in >$(DESTDIR)$(PREFIX)/lib/pkgconfig/tq.pc
	chmod 0644 $(DESTDIR)$(PREFIX)/lib/pkgconfig/tq.pc
	install -m 0644 lib/tq.h $(DESTDIR)$(PREFIX)/include/
	install -m 0644 man/tq.1 man/tq-web.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 man/tq-supervisor.8 man/tq-worker.8 \
	    $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 supervisor/tq-supervisor.service \
	    $(DESTDIR)$(PREFIX)/lib/systemd/system/

clean:
	rm -rf $(O) $(BIN) build-asan bin-asan build-fuzz bin-fuzz

-include $(ALL_OBJS:.o=.d)

# make fuzz: one libFuzzer target per decoder (tests/fuzz/fuzz_*.c), built
# with clang, ASan and UBSan into bin-fuzz/ (the library files each needs
# compiled the same way into build-fuzz/), each run FUZZ_SECONDS on a copy
# of its seed corpus under var/fuzz/corpus/. Any crash fails the run; its
# input goes to var/fuzz/artifacts/, its report to var/fuzz/TARGET.log.
# FUZZ_SKIP=check[,check] leaves out the checks of reported findings; see
# tests/fuzz/README (the targets, their invariants, reproducing a crash).
FUZZ_CC		?= clang
FUZZ_SECONDS	?= 20
FUZZ_O		:= build-fuzz
FUZZ_BIN	:= bin-fuzz
FUZZ_TARGETS	:= msg frame url config cron progress serve webtext nodeinfo
FUZZ_SAN	:= -fsanitize=address,undefined -fno-sanitize-recover=all \
		   -fno-omit-frame-pointer
FUZZ_CFLAGS	:= -O1 -g -std=gnu11 $(FUZZ_SAN) -Ilib -Iworker -Icli \
		   -I/usr/include/mariadb -isystem /usr/include/bsd \
		   -DLIBBSD_OVERLAY -D_GNU_SOURCE
FUZZ_LDLIBS	:= $(shell pkg-config --libs libbsd-overlay jansson libmicrohttpd 2>/dev/null)
FUZZ_SRCS_msg	:= lib/task.c
FUZZ_SRCS_frame	:= lib/proto.c
FUZZ_SRCS_url	:= lib/url.c lib/util.c
FUZZ_SRCS_config := lib/config.c lib/inifile.c lib/task.c lib/url.c \
		   lib/util.c
FUZZ_SRCS_cron	:= lib/cron.c
FUZZ_SRCS_progress := worker/exec.c worker/spawn.c lib/inifile.c lib/task.c lib/util.c \
		   lib/log.c
FUZZ_SRCS_serve	:= worker/serve_frame.c lib/util.c lib/log.c
FUZZ_SRCS_webtext := cli/web_util.c lib/util.c lib/log.c
FUZZ_SRCS_nodeinfo := cli/web_nodes.c cli/web_util.c lib/util.c lib/log.c

$(FUZZ_O)/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

define FUZZ_LINK
$(FUZZ_BIN)/fuzz_$(1): $(FUZZ_O)/tests/fuzz/fuzz_$(1).o \
    $(FUZZ_SRCS_$(1):%.c=$(FUZZ_O)/%.o)
	@mkdir -p $$(@D)
	$$(FUZZ_CC) -fsanitize=fuzzer $$(FUZZ_SAN) -o $$@ $$^ $$(FUZZ_LDLIBS)
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call FUZZ_LINK,$(t))))

.PHONY: fuzz
fuzz: $(FUZZ_TARGETS:%=$(FUZZ_BIN)/fuzz_%)
	@mkdir -p var/fuzz/artifacts; fail=; \
	for t in $(FUZZ_TARGETS); do \
	    mkdir -p var/fuzz/corpus/$$t; \
	    cp tests/fuzz/corpus/$$t/* var/fuzz/corpus/$$t/; \
	    dict=; [ -f tests/fuzz/$$t.dict ] && dict=-dict=tests/fuzz/$$t.dict; \
	    echo "fuzz: $$t, $(FUZZ_SECONDS) s"; \
	    if UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	        $(FUZZ_BIN)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
	        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 $$dict \
	        -artifact_prefix=var/fuzz/artifacts/$$t- var/fuzz/corpus/$$t \
	        >var/fuzz/$$t.log 2>&1; then r=ok; \
	    else r=CRASH; fail="$$fail $$t"; fi; \
	    runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' var/fuzz/$$t.log); \
	    cov=$$(grep -o 'cov: [0-9]* ft: [0-9]*' var/fuzz/$$t.log | tail -n 1); \
	    echo "fuzz: $$t: $$r, $${runs:-?} runs, $${cov:-cov: ?}," \
	        "corpus $$(ls var/fuzz/corpus/$$t | wc -l)"; \
	    [ $$r = ok ] || grep -m 3 -E 'ERROR|runtime error|invariant|Test unit written' var/fuzz/$$t.log; \
	done; \
	if [ -n "$$fail" ]; then echo "fuzz: crashes in:$$fail (var/fuzz/*.log," \
	    "var/fuzz/artifacts/)"; exit 1; fi; echo "fuzz: no crashes"

-include $(sort $(foreach t,$(FUZZ_TARGETS),$(FUZZ_O)/tests/fuzz/fuzz_$(t).d \
    $(FUZZ_SRCS_$(t):%.c=$(FUZZ_O)/%.d)))
