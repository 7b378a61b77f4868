# Kindling — the two commands a newcomer runs:
#   make demo   installs what is missing, builds in release, trains an MLP on Fashion-MNIST
#   make test   installs what is missing, then runs the whole test suite

SWIFT ?= swift
DEMO_ARGS ?=

.PHONY: deps demo test build bench train-cnn graph payoff sanitize fuzz clean

deps:
	@bash scripts/install-deps.sh

build: deps
	$(SWIFT) build -c release --product kindling

demo: build
	$(SWIFT) run -c release kindling train --report reports/mlp $(DEMO_ARGS)
	@echo "Open reports/mlp/index.html to see the curves, the model's graph and its mistakes."

graph: build
	$(SWIFT) run -c release kindling graph --model mlp --out reports/mlp-graph.svg

train-cnn: build
	$(SWIFT) run -c release kindling train --model cnn --augment --report reports/cnn

bench: build
	$(SWIFT) run -c release kindling bench

# Every step of `make test` runs under scripts/watchdog.sh: if a step's
# processes use no CPU for $(STALL) s (a deadlock), or the step runs past its
# --limit, the watchdog prints every thread's stack of every process in the
# step, kills them, and the step fails (status 124) — in minutes, not at
# CI's time limit.
STALL ?= 300
WATCHDOG = bash scripts/watchdog.sh --stall $(STALL)

test: deps
	$(WATCHDOG) --limit 2400 --name "swift build --build-tests" -- $(SWIFT) build --build-tests
	$(WATCHDOG) --limit 600 --name "grader sync --check" -- $(SWIFT) run --skip-build grader sync --check
	$(WATCHDOG) --limit 1800 --name "swift test" -- $(SWIFT) test --skip-build
	$(WATCHDOG) --limit 2400 --name "grader verify" -- $(SWIFT) run --skip-build grader verify

# The library's, the lessons' and the hidden tests under AddressSanitizer,
# then ThreadSanitizer, with every loop and product that can be split across
# cores split (KINDLING_PARALLEL_THRESHOLD=1), so that small test tensors
# take the parallel paths too. Each sanitizer builds in a folder of its own
# (a sanitized build is a full rebuild). Any report fails the step.
SANITIZE_TESTS = KindlingTests\.|LessonTests\.|HiddenTests\.
SANITIZERS ?= address thread
sanitize: deps
	@for s in $(SANITIZERS); do \
	  $(WATCHDOG) --limit 3600 --name "swift build --sanitize=$$s" -- \
	    $(SWIFT) build --build-tests --sanitize=$$s --scratch-path .build-$$s || exit 1; \
	  KINDLING_PARALLEL_THRESHOLD=1 $(WATCHDOG) --limit 3600 --name "swift test --sanitize=$$s" -- \
	    $(SWIFT) test --skip-build --sanitize=$$s --scratch-path .build-$$s --filter '$(SANITIZE_TESTS)' || exit 1; \
	done

# Every parser of untrusted bytes under libFuzzer and AddressSanitizer (see
# Fuzz/README.md): each target runs SECONDS seconds from its seed corpus, at
# most FUZZ_JOBS at a time. Any crash, leak, timeout or out-of-memory fails,
# and the input that caused it is named in the output.
SECONDS ?= 60
TARGETS ?= idx safetensors events markers
FUZZ_JOBS ?= 1
fuzz: deps
	bash scripts/fuzz.sh --seconds $(SECONDS) --jobs $(FUZZ_JOBS) $(TARGETS)

# The course's payoff: the learner's workspace with every exercise filled in
# (from Solutions/) trains the MLP of lesson 10 (seconds), the CNN of lesson 11
# (2 minutes), then the CNN of lesson 12 (about 12 minutes on two cores) — on the learner's own framework.
payoff: deps
	$(SWIFT) run grader apply Solutions --to .build-payoff/Kindling
	KINDLING_WORKSPACE=.build-payoff/Kindling $(SWIFT) build -c release --scratch-path .build-payoff/build --product kindling
	.build-payoff/build/release/kindling train
	.build-payoff/build/release/kindling train --model convnet
	.build-payoff/build/release/kindling train --model cnn --augment

clean:
	rm -rf .build
