# Kindling — the two commands a newcomer runs:
#   make demo   installs what is missing, builds in release, trains an MLP on Fashion-MNIST
#   make test   installs what is missing, then runs the whole test suite

SWIFT ?= swift
DEMO_ARGS ?=

.PHONY: deps demo test build bench train-cnn graph payoff clean

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
	$(SWIFT) run -c release kindling train --model cnn --report reports/cnn

bench: build
	$(SWIFT) run -c release kindling bench

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) run --skip-build grader sync --check
	$(SWIFT) test --skip-build
	$(SWIFT) run --skip-build grader verify

# The course's payoff: the learner's workspace with every exercise filled in
# (from Solutions/) trains the MLP — on the learner's own framework.
payoff: deps
	$(SWIFT) run grader apply Solutions --to .build-payoff/Kindling
	KINDLING_WORKSPACE=.build-payoff/Kindling $(SWIFT) build -c release --scratch-path .build-payoff/build --product kindling
	.build-payoff/build/release/kindling train

clean:
	rm -rf .build
